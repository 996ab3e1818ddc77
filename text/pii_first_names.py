"""Common given names in France and English-speaking countries, lower-cased, for `text.pii_names`.

A capitalised word followed by a capitalised surname is a person only when the first word is a given
name: that one fact keeps "Microsoft Teams", "Active Directory" and "Paris Nord" out while "Jeanne
Dupont confirmed" and "Jane Doe's mailbox" are caught anywhere in a sentence. The list holds the
names most often given in France, the UK and the US over the last eighty years; names that are also
everyday English or French words a ticket capitalises ("Will", "Mark", "Bill", "Grace", "Rose", "May",
"June", "Page", "Guy", "Ray", "Claude" the assistant) are left out on purpose: a missed "Mark Read" costs
less than redacting "Mark Done" in every answer. Measured on tests/data/pii_corpus.jsonl
(benchmarks/pii_corpus.py), figures in RELIABILITY.md.
"""

from __future__ import annotations

_FRENCH = """
    adam adèle adrien agathe agnès alain alexandre alexandra alexis alice aline amandine amélie anaïs
    andré andrée angélique anne annick annie antoine arnaud arthur aurélie aurélien axel baptiste
    benoît benjamin bernard bernadette brigitte bruno camille capucine caroline catherine cécile
    céline chantal charles charlotte chloé christelle christian christiane christine christophe claire
    clara clément clémence colette corinne cyril damien daniel danielle david delphine denis denise
    didier dominique dylan eddy edith éléonore élise élodie éloïse emma emmanuel emmanuelle émilie
    émile enzo éric estelle ethan étienne eugénie éva évelyne fabien fabienne fabrice fanny florence
    florian francis franck françois françoise frédéric frédérique gabriel gabrielle gaël gaëlle
    geneviève georges gérard germaine ghislaine gilbert gilles gisèle guillaume hélène henri hervé
    hugo hugues inès isabelle jacqueline jacques jean jeanne jérémy jérôme joël joëlle jordan joseph
    josé josette josiane julie julien juliette justine karine kévin laetitia laura laure laurence
    laurent léa léo léon léonie liliane lina louis louise loïc lucas lucie lucien lucille luc ludovic
    lydie madeleine manon marc marcel margaux marguerite marie marine marion martine mathias mathieu
    mathilde matthieu maurice maxime mélanie michel micheline michèle mickaël monique morgane muriel
    myriam nadine nadia natacha nathalie nathan nicolas nicole noémie océane odette olivier pascal
    pascale patrice patricia paul paule pauline philippe pierre quentin raphaël raymond régine rémi
    renée richard robert roger romain rose-marie sabine samuel sandrine sarah sébastien serge simone
    solène sophie stéphane stéphanie suzanne sylvain sylvie théo thérèse thibault thierry thomas
    timothée tristan valentin valérie vanessa véronique victor vincent virginie xavier yann yannick
    yves yvette yvonne zoé
"""
_ENGLISH = """
    aaron abigail alan albert alex alexander alfred alison amanda amber amy andrew andy angela anna
    anthony ashley barbara betty beverly brandon brenda brian carol carl carolyn catherine charlotte
    cheryl chris christopher cynthia dan daniel deborah debra dennis diana diane donald donna doris
    dorothy douglas edward elizabeth emily emma eric ethan evelyn frances gary george gloria gregory
    hannah harold harry heather helen henry isabella jacob james jane janet janice jason jeffrey
    jennifer jeremy jerry jessica joan john jonathan joshua joyce judith julia justin karen kathleen
    kathryn keith kelly kenneth kevin kimberly kyle larry laura lauren linda lisa madison margaret
    maria marie marilyn martha mary matthew megan melissa michael michelle nancy nicholas nicole
    noah oliver olivia pamela patrick paul peter rachel rebecca richard robert ronald ruth ryan
    samantha samuel sandra sara sarah scott sean sharon shirley sophia stephanie stephen steven susan
    teresa thomas timothy tyler victoria virginia walter wayne william zachary jack jake james jim
    joe jon kate katie liam lucy mike molly natalie nick sam sophie tom tony
"""
FIRST_NAMES = frozenset((_FRENCH + _ENGLISH).split())
