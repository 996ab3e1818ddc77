"""Word lists behind `text.analysis`: stop words, vague words, platforms, product components.

Plain module-level data in French and English. Settings or a deployment's own configuration can
extend it: `extract_entities(text, component_vocabulary={**DEFAULT_COMPONENT_VOCABULARY, ...})`.
Words are stored lower-case and without accents; lookups fold the text the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ENGLISH_STOP_WORDS = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can cannot could did do does doing done down during each either else even
    ever every few for from further get gets got had has have having he her here hers him his how i if
    in into is it its itself just let like may me might more most must my myself no nor not now of off
    on once only or other our ours out over own same she should since so some such than that the their
    them then there these they this those through to too under until up upon us very via was we were
    what when where which while who whom why will with within without would yet you your yours
    dont doesnt didnt isnt wasnt arent cant couldnt wont wouldnt im ive its thats theres whats
    hi hello hey dear thanks thank regards please pls kind best cheers sincerely
    one two also really still already anymore anyone someone something anything everything much many
    well want wants wanted need needs needed try tried trying able unable seems seem last ago lately
    """
_FRENCH_STOP_WORDS = """
    a ai aie aient aies ait alors as au aucun aucune aupres aussi autre autres aux avaient avais avait
    avant avec avez aviez avions avoir avons ayant c ca car ce ceci cela celle celles celui ces cet cette
    ceux chaque chez comme comment d dans de des deja depuis doit dois donc dont du elle elles en encore
    entre es est et etaient etais etait etant ete etes etre eu eux fait faire fais fois fut ici il ils j
    je jusqu l la le les leur leurs lors lorsque lui m ma mais me meme mes moi moins mon n ne ni nos
    notre nous on ont ou par parce pas peu peut peuvent peux plus pour pourquoi pourrais pourriez
    pouvez puis qu quand que quel quelle quelles quels qui s sa sans se sera ses si sien soit sommes son
    sont sous suis sur t ta te tes toi ton toujours tous tout toute toutes tres trop tu un une vers
    veux voici voila vos votre voudrais vous y aimerais souhaite souhaiterais
    bonjour bonsoir salut merci cordialement madame monsieur svp stp bien beaucoup avance
    """
STOP_WORDS_EN = frozenset(_ENGLISH_STOP_WORDS.split())
STOP_WORDS_FR = frozenset(_FRENCH_STOP_WORDS.split())
STOP_WORDS = STOP_WORDS_EN | STOP_WORDS_FR

# Words frequent in one language and rare in the other; ambiguous ones ("a", "on", "en") are left out.
_ENGLISH_MARKERS = """
    the and is are was were with this that have has not you your for my it of to in i can when does
    doesnt dont please what how there be been will would should from they we our any after
    """
_FRENCH_MARKERS = """
    le la les des du un une est et je ne pas que qui pour dans sur avec mon ma mes nous vous il elle
    ce cette au aux sont bonjour merci depuis mais ou plus suis j l d c n qu votre notre de en se mes ses
    """
LANGUAGE_MARKERS = {"en": frozenset(_ENGLISH_MARKERS.split()), "fr": frozenset(_FRENCH_MARKERS.split())}

# Help-desk words that say something is wrong without saying what.
_VAGUE_WORDS = """
    help helps helped helping problem problems issue issues bug bugs error errors urgent urgently asap question
    questions request support please pls plz hello hi hey test testing thing things stuff something
    nothing broken work works working worked fix fixed fixing need needed doesnt dont isnt cant sos
    again why what ok okay yes no not wrong bad happen happened happening going
    aide aider aidez besoin probleme problemes souci soucis bogue erreur erreurs urgence urgente demande
    marche marchent fonctionne fonctionnent fonctionner marcher rien truc trucs chose choses quoi
    oui non encore toujours ca cela pourquoi arrive passe quelque
    """
VAGUE_WORDS = frozenset(_VAGUE_WORDS.split())

# Words too generic to be keywords even though they are not stop words.
_FILLER_WORDS = """
    today yesterday tomorrow aujourd hui hier demain time day days way moment jour jours matin soir
    subject objet re fw fwd tr bjr bsr slt cdt cdlt mrc thx jarrive narrive jai cest jessaie
    mr mrs ms miss dr mme mlle monsieur madame sir
    """
KEYWORD_FILLER = VAGUE_WORDS | frozenset(_FILLER_WORDS.split())

# Canonical platform name -> pattern, in the order they are reported. Words that double as ordinary
# vocabulary ("windows", "edge", "opera") must be capitalised to count.
PLATFORM_PATTERNS: dict[str, re.Pattern[str]] = {
    "Windows": re.compile(r"\bWindows\b|\b[Ww]in ?(?:7|8|10|11)\b"),
    "macOS": re.compile(r"\b(?:mac ?os(?: ?x)?|os ?x|macbook\w*|imac)\b|\bMac\b", re.IGNORECASE),
    "Linux": re.compile(r"\b(?:linux|ubuntu|debian|fedora|centos|red ?hat|rhel)\b", re.IGNORECASE),
    "Android": re.compile(r"\bandroid\b", re.IGNORECASE),
    "iOS": re.compile(r"\b(?:ios|ipados|iphone|ipad)\b", re.IGNORECASE),
    "ChromeOS": re.compile(r"\b(?:chrome ?os|chromebook)\b", re.IGNORECASE),
    "Chrome": re.compile(r"\b(?:google )?(?:chrome|chromium)\b(?! ?os)", re.IGNORECASE),
    "Firefox": re.compile(r"\bfirefox\b", re.IGNORECASE),
    "Safari": re.compile(r"\bsafari\b", re.IGNORECASE),
    "Edge": re.compile(r"\b(?:Microsoft Edge|Edge)\b(?! cases?\b)"),
    "Opera": re.compile(r"\bOpera\b"),
    "Internet Explorer": re.compile(r"\b(?:internet explorer|IE ?11)\b", re.IGNORECASE),
}
# Names that can carry a version right after them ("iOS 17.2", "Chrome 120.0.6099.109").
VERSIONED_PRODUCT_NAMES = (
    "iOS", "iPadOS", "Android", "Windows", "macOS", "Ubuntu", "Debian", "Chrome", "Firefox", "Safari",
    "Edge", "Opera", "Python", "Java", "Node.js", "Node", "PHP", "Outlook", "Excel", "Office",
)  # fmt: skip

# Canonical component -> synonyms (French and English, folded). Extend by merging another mapping.
DEFAULT_COMPONENT_VOCABULARY: Mapping[str, tuple[str, ...]] = {
    "login": (
        "login", "log in", "log-in", "logon", "sign in", "sign-in", "signin", "connexion",
        "se connecter", "me connecter", "authentification", "authentication", "password",
        "mot de passe", "mdp", "2fa", "mfa", "sso", "otp",
    ),
    "invoice": ("invoice", "invoices", "facture", "factures", "facturation", "billing"),
    "payment": (
        "payment", "payments", "paiement", "paiements", "carte bancaire", "credit card", "prelevement",
        "direct debit", "refund", "remboursement", "checkout", "paypal", "stripe",
    ),
    "subscription": ("subscription", "subscriptions", "abonnement", "abonnements", "renewal", "renouvellement"),
    "account": ("account", "accounts", "compte", "comptes", "profile", "profil"),
    "api": ("api", "apis", "webhook", "webhooks", "endpoint", "endpoints"),
    "dashboard": ("dashboard", "dashboards", "tableau de bord", "tableaux de bord"),
    "export": ("export", "exports", "exporter", "exportation", "csv"),
    "import": ("import", "imports", "importer", "importation"),
    "mobile app": ("mobile app", "application mobile", "app mobile", "appli mobile", "mobile application"),
    "email": ("email", "emails", "e-mail", "e-mails", "mail", "mails", "courriel", "courriels"),
    "notifications": ("notification", "notifications", "alerte", "alertes", "alert", "alerts"),
    "search": ("search", "recherche", "rechercher"),
    "report": ("report", "reports", "reporting", "rapport", "rapports"),
    "sync": ("sync", "synchronisation", "synchronization", "synchroniser", "synchronize"),
    "integration": ("integration", "integrations", "connector", "connecteur", "connecteurs"),
    "settings": ("settings", "parametres", "preferences", "configuration"),
    "permissions": ("permission", "permissions", "droits d'acces", "access rights", "roles"),
    "download": ("download", "telecharger", "telechargement"),
}  # fmt: skip
