"""Pure text functions both graphs use.

Language and normalisation, keywords, entities, urgency, sentiment, PII, the classifier and its taxonomy.
"""
