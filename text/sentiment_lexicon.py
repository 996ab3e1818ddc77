"""French and English word lists behind `text.sentiment`; plain data a deployment can extend.

Words are stored without accents ("decu", "enerve") because customers often type without them; the
analyser strips accents from the text before looking words up. Weights follow VADER's scale: about
1 for mild words, 2 for clear ones, 3 and more for strong ones. Help-desk topic words ("bug",
"error", "problème") are deliberately absent and courtesy ("thanks", "merci") weighs little: a calm
bug report that ends with "merci" is neutral.
"""

from __future__ import annotations

import re

WORD_WEIGHTS: dict[str, float] = {
    # English, negative ("fraud" is mild: in payments it names a topic more than a mood)
    "angry": -3.0, "furious": -3.5, "livid": -3.5, "annoyed": -2.0, "annoying": -2.0, "irritated": -2.0,
    "frustrated": -2.0, "frustrating": -2.0, "disappointed": -2.0, "disappointing": -2.0,
    "unhappy": -2.0, "upset": -2.0, "dissatisfied": -2.0, "bad": -1.5, "poor": -1.5, "lousy": -2.0,
    "terrible": -3.0, "horrible": -3.0, "awful": -3.0, "worst": -3.5, "useless": -2.5,
    "ridiculous": -2.5, "unacceptable": -3.0, "outrageous": -3.0, "pathetic": -3.0, "disgusting": -3.0,
    "appalling": -3.0, "shameful": -3.0, "disgrace": -3.0, "incompetent": -3.0, "incompetence": -3.0,
    "hate": -3.0, "nightmare": -2.5, "disaster": -2.5, "joke": -1.5, "scam": -3.0, "fraud": -1.0,
    "ripoff": -3.0, "unbearable": -3.0, "mad": -2.0, "fed": -0.5, "sick": -1.0, "tired": -1.0,
    "waste": -1.5, "wasted": -1.5, "unreliable": -2.0, "sloppy": -2.0, "rude": -2.5,
    # English, positive
    "happy": 2.0, "glad": 2.0, "pleased": 2.0, "satisfied": 2.0, "great": 2.0, "good": 1.5,
    "nice": 1.5, "excellent": 3.0, "perfect": 3.0, "awesome": 3.0, "amazing": 3.0, "wonderful": 3.0,
    "fantastic": 3.0, "love": 2.5, "helpful": 2.0, "appreciate": 2.0, "thanks": 0.3, "thank": 0.3,
    "grateful": 2.0, "quick": 1.0, "efficient": 2.0, "fine": 0.5,
    # French, negative
    "enerve": -2.5, "enervee": -2.5, "enervant": -2.5, "furieux": -3.5, "furieuse": -3.5,
    "fache": -2.5, "fachee": -2.5, "agace": -2.0, "agacee": -2.0, "agacant": -2.0, "frustre": -2.0,
    "frustree": -2.0, "frustrant": -2.0, "decu": -2.0, "decue": -2.0, "decevant": -2.0,
    "deception": -2.0, "mecontent": -2.0, "mecontente": -2.0, "mecontentement": -2.0,
    "inadmissible": -3.0, "inacceptable": -3.0, "scandaleux": -3.0, "scandale": -3.0, "honteux": -3.0,
    "honte": -2.5, "lamentable": -3.0, "nul": -2.5, "nulle": -2.5, "pire": -3.0, "catastrophique": -3.0,
    "catastrophe": -2.5, "insupportable": -3.0, "intolerable": -3.0,
    "incompetents": -3.0, "incompetente": -3.0, "arnaque": -3.0,
    "escroquerie": -3.0, "escrocs": -3.0, "inutile": -2.0, "deplorable": -3.0, "exaspere": -3.0,
    "exasperee": -3.0, "exasperant": -3.0, "mauvais": -1.5, "mauvaise": -1.5, "mediocre": -2.0,
    "cauchemar": -2.5, "colere": -2.5, "marre": -2.5, "degoute": -2.5, "degoutee": -2.5,
    "inadmissibles": -3.0, "minable": -3.0, "irrespectueux": -2.5, "malhonnete": -3.0,
    # French, positive
    "content": 2.0, "contente": 2.0, "satisfait": 2.0, "satisfaite": 2.0, "merci": 0.3,
    "genial": 3.0, "parfait": 3.0, "parfaitement": 2.0, "bravo": 2.5, "efficace": 2.0,
    "ravi": 3.0, "ravie": 3.0, "heureux": 2.0, "heureuse": 2.0, "formidable": 3.0, "impeccable": 3.0,
    "apprecie": 2.0, "top": 1.5, "rapide": 1.0, "super": 2.0, "reactif": 2.0, "reactive": 2.0,
}  # fmt: skip

PROFANITY = frozenset(
    {
        # English
        "fuck", "fucking", "fucked", "shit", "shitty", "crap", "crappy", "damn", "bullshit", "wtf",
        "asshole", "assholes", "bastard", "bastards", "idiot", "idiots", "stupid", "moron", "morons",
        "sucks", "dumb",
        # French
        "merde", "merdique", "putain", "bordel", "connard", "connards", "connasse", "foutre", "chier",
        "emmerde", "emmerdant", "debile", "debiles", "abruti", "abrutis", "pourri", "pourrie",
        "foutage", "batards", "ptn",
    }
)  # fmt: skip

NEGATORS = frozenset(
    {
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "hardly",
        "barely", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
        "wont", "wouldnt", "couldnt", "shouldnt", "havent", "hasnt", "hadnt", "aint",
        "ne", "n", "pas", "jamais", "aucun", "aucune", "rien", "sans", "ni", "guere",
    }
)  # fmt: skip

INTENSIFIERS = frozenset(
    {
        "very", "really", "so", "extremely", "totally", "absolutely", "completely", "utterly",
        "incredibly", "truly", "seriously", "highly", "deeply", "too", "super", "most",
        "tres", "vraiment", "trop", "tellement", "extremement", "totalement", "completement",
        "absolument", "hyper", "franchement", "carrement", "si", "vachement", "particulierement",
        "profondement", "archi",
    }
)  # fmt: skip
DAMPENERS = frozenset({"slightly", "somewhat", "bit", "little", "peu", "legerement", "moyennement"})

# Phrases that mean the customer is about to leave, sue or claw the money back. Matched on the
# accent-stripped, lower-cased text. Any of them makes a ticket strongly negative.
THREAT_PATTERNS: dict[str, re.Pattern[str]] = {
    "legal": re.compile(
        r"\b(?:lawyers?|attorneys?|solicitors?|legal action|legal proceedings|sue (?:you|your)|suing|"
        r"(?:take|taking) (?:you|this|it) to court|small claims|consumer protection|"
        r"avocats?|porter plainte|(?:deposer|deposerai|deposons) (?:une )?plainte|action en justice|"
        r"poursuites? judiciaires?|poursuivre en justice|tribunal|mise en demeure|dgccrf|"
        r"ufc que choisir|cnil)\b"
    ),
    "churn": re.compile(
        r"\b(?:cancel+(?:ing)? (?:my|our|the) (?:subscription|account|contract|plan|membership)|"
        r"close (?:my|our) account|terminate (?:my|our|the) contract|switch(?:ing)? to (?:a |another )?"
        r"(?:competitor|provider|vendor)|go(?:ing)? elsewhere|take (?:my|our) business elsewhere|"
        r"never (?:use|buy|order) (?:from )?(?:you|this|it) again|"
        r"resilier|resiliation|resilie|(?:je|nous) (?:vais|allons|veux|voulons) partir|"
        r"changer de (?:fournisseur|prestataire|solution|logiciel)|(?:aller|irai|irons) (?:voir )?ailleurs|"
        r"fermer (?:mon|notre) compte|mettre fin (?:a|au) (?:mon |notre )?(?:contrat|abonnement))\b"
    ),
    "chargeback": re.compile(
        r"\b(?:charge ?backs?|dispute (?:the|this|a|my) (?:charge|payment|transaction)|"
        r"contact(?:ing)? my bank|call(?:ing)? my bank|"
        r"(?:faire|fais|ferai) (?:une )?opposition|opposition (?:bancaire|sur)|retrofacturation|"
        r"contester (?:le|la|ce|cette) (?:paiement|prelevement|debit|transaction))\b"
    ),
    "public": re.compile(
        r"\b(?:(?:bad|negative|1[- ]star) reviews?|social media|trustpilot|"
        r"avis negatifs?|reseaux sociaux|(?:le dire|raconter) (?:a|sur) tout le monde)\b"
    ),
}

# Set phrases whose meaning is not the sum of their words: in French "pas terrible" means "poor".
IDIOM_WEIGHTS: dict[str, float] = {
    "pas terrible": -1.5,
    "pas top": -1.5,
    "pas fou": -1.0,
    "bof": -1.0,
    "not great": -1.5,
    "not the best": -1.0,
}
IDIOM_PATTERN = re.compile(r"\b(?:" + "|".join(re.escape(idiom) for idiom in IDIOM_WEIGHTS) + r")\b", re.IGNORECASE)

# Phrases that show wear rather than anger: repeated failures, waiting, being ignored.
FRUSTRATION_PATTERN = re.compile(
    r"\b(?:fed up|sick (?:and tired )?of|waste of (?:my )?time|still (?:not|no|waiting|broken)|"
    r"(?:third|fourth|fifth|\d+(?:th|rd)) time|again and again|over and over|no one (?:answers|replies)|"
    r"nobody (?:answers|replies|cares)|ras[- ]le[- ]bol|j'en ai marre|en ai marre|perte de temps|"
    r"toujours pas|toujours rien|(?:troisieme|quatrieme|cinquieme|\d+e) fois|encore une fois|"
    r"personne ne (?:repond|me repond)|aucune reponse|sans reponse|foutez? de (?:ma|notre) gueule|"
    r"se moque(?:r|nt)? de nous|vous vous moquez)\b"
)
