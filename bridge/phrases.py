"""A deterministic opt-out check on the caller's words, backing up the model (DESIGN rule 5).

What counts as an opt-out. 47 CFR 64.1200(a)(10) (FCC 24-24, CG Docket 02-278, adopted Feb 15
2024; 89 FR 15756; in force Apr 11 2025) lets a consumer revoke consent "in any reasonable manner
that clearly expresses a desire not to receive further calls", names "stop", "quit", "end",
"revoke", "opt out", "cancel" and "unsubscribe" as words that do so, and treats other wording as a
revocation when a reasonable person would read it as one. On a call the same request also makes a
company-specific do-not-call request (64.1200(d)(3); 16 CFR 310.4(b)(1)(iii)(A)). The single-word
turns follow the carriers' opt-out keywords: Twilio's STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
QUIT, REVOKE, OPTOUT (twilio.com/docs/messaging/tutorials/advanced-opt-out), AWS End User
Messaging's OPT-OUT, REMOVE, ARRET (docs.aws.amazon.com/sms-voice, "Required opt-out keywords").
Oral wording is judged on the words used (Dixon v. Monterey Fin. Servs., N.D. Cal. 2016: "I asked
you guys not to call me" can revoke; "I'll have my attorney contact you guys" does not).

How it matches. Never bare substrings (TUTORIAL_NOTES R33, R34: "yes" in "yesterday"): the turn is
normalised (case, accents, curly apostrophes, contractions, hyphens, letters spelled out "s t o p",
fillers "uh", "um", "you know"), then checked against intent rules over whole words:

- a turn (or a clause of it, split at the transcriber's punctuation) made only of opt-out keywords
  ("stop", "stop it", "cancel please", "d n c", "opt-out"), or a keyword beside "not interested";
- a verb of stopping or refusal with an object about calls or this person: "stop calling",
  "don't call me again", "no more calls", "I don't want to be contacted", "these calls need to stop";
- removal from a list or record: "take me off your list", "remove me", "erase my number",
  "put me on your do not call list", "I'm on the do not call registry";
- revocation words: "opt out", "unsubscribe", "I revoke my consent", "you don't have my
  permission to call me", "leave me alone".

Guards keep the keywords used about something else out: "stop by Tuesday", "end of the month",
"don't call it a comeback", "don't call me sir", "take me off hold", "opt out of the auto renewal",
"remove me as the admin", "stop, wait, let me get my calendar". A false alarm costs one lead; a miss
is a violation, so where a phrase is ambiguous the rules lean inclusive. The labelled corpus in
tests/bridge/data/opt_out_corpus.csv measures both (README, "Opt-out is absolute").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_opt_out", "match_opt_out", "normalize"]

# --- normalisation ---

_SPELLED = re.compile(r"(?<![\w'])[a-z](?:[ .\-]+[a-z])+(?![\w'])\.?")
_CONTRACTIONS = (
    (r"\bdo ?n'?t\b", "do not"),
    (r"\bdoes ?n'?t\b", "does not"),
    (r"\bdid ?n'?t\b", "did not"),
    (r"\bwo ?n't\b|\bwont\b(?= \w+ing\b| call| stop| be\b)", "will not"),
    (r"\bca ?n'?t\b|\bcannot\b", "can not"),
    (r"\b(is|are|was|were|have|has|would|should|could) ?n'?t\b", r"\1 not"),
    (r"\bi'?m\b", "i am"),
    (r"\b(i|you|we|they)'d\b", r"\1 would"),
    (r"\b(i|you|we|they)'ve\b", r"\1 have"),
    (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\b(it|that|he|she|there|number|what)'s\b", r"\1 is"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\bgonna\b", "going to"),
    (r"\by'?all\b", "you all"),
    (r"\b(call|ring|phon|text|contact|bother)in'?(?=\s|$|[^\w'])", r"\1ing"),
    (r"\bma'am\b", "maam"),
)
_CONTRACTION_RES = tuple((re.compile(p), r) for p, r in _CONTRACTIONS)
_FILLERS = re.compile(
    r"\b(?:u+h+|u+m+|u+h+m+|h+m+|m+h?m+|e+r+m*|a+h+|you know|i mean|please|kindly|really|"
    r"actually|seriously|literally|honestly|basically|just)\b"
)
_CLAUSE_MARK = re.compile(r"[.,!?;:\u2026]+")
_NON_WORD = re.compile(r"[^a-z0-9| ]+")


def normalize(text: str) -> str:
    """The turn in the form the rules read: lower case, ASCII, contractions expanded, fillers gone.

    Sentence punctuation becomes a clause mark ``|`` (the keyword-turn rule splits on it); letters
    spelled out are joined ("S T O P", "d.n.c." -> "stop", "dnc"); hyphens become spaces
    ("do-not-call" -> "do not call"); apostrophes go after the contractions are expanded.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _SPELLED.sub(lambda m: re.sub(r"[^a-z]", "", m.group()) + " ", text)
    text = re.sub(r"(?<=\w)[\-_/](?=\w)", " ", text)
    for pattern, replacement in _CONTRACTION_RES:
        text = pattern.sub(replacement, text)
    text = _CLAUSE_MARK.sub(" | ", text).replace("'", "")
    text = _FILLERS.sub(" ", _NON_WORD.sub(" ", text))
    text = re.sub(r"\|(?:\s*\|)+", "|", " ".join(text.split()))
    return text.strip(" |")


# --- rules ---
# Written with single spaces between words; a space also lets a clause mark through ("take me
# off, uh, your list"). A guard that must not cross a clause mark uses \x20 instead.


_GAP = r"(?: \|)* "
_CALLING = (
    r"(?:calling|calls|call|phoning|phone calls|ringing|contacting|texting|messaging|dialing|"
    r"robocalls|robo calls|robocalling|reaching out)"
)
_PESTER = r"(?:bothering|harassing|pestering|bugging|hassling|hounding) (?:me|us|my|this)"
_PLACE = r"(?:phone|cell|number|line|house|home|landline|mobile)"
_ME = rf"(?:me|us|here|this number|this phone|my (?:\w+ )?{_PLACE})"
_NUMBER = (
    r"(?:(?:my|his|her|their) (?:\w+ )?number|this number|our number|my (?:\w+ )?phone|my cell|"
    r"my info|my information|my details|my contact|my name)"
)
_NEG = r"(?:do not|does not|dont|never|no longer)"
_DNC = r"(?:do not call|dnc|no call)"
_CALL_VERB = r"(?:call|contact|phone|ring|text|dial)"
_KW = (
    r"(?:stop(?: all| it| that| calling| now)?|stopall|quit(?: it)?|end(?: it)?|cancel(?: me)?|"
    r"un ?subscribe(?: me)?|revoke|opt (?:me )?out|optout|remove(?: me)?|dnc|do not call|no more|"
    r"no mas|enough already|arret|arrete|basta|go away|cut it out|knock it off)"
)
_LEAD = (
    r"(?:no|oh|hey|so|well|okay|ok|yes|yeah|look|listen|like|alright|all right|and|but|now|then|"
    r"i said|i said to|sir|maam)"
)
_TAIL = (
    r"(?:call|now|right now|already|immediately|then|okay|ok|thanks|thank you|sir|maam|no|all|"
    r"the call|this call|please|bye|goodbye)"
)
# one level of repetition, possessive: a clause of "now now now ... x" fails in linear time
_KEYWORD_CLAUSE = re.compile(rf"(?:{_LEAD} )*{_KW}(?= |$)(?: (?:{_KW}|{_TAIL})(?= |$))*+")
_PAUSE_CUE = re.compile(
    r"\b(?:wait|hold on|hang on|one sec|one second|go back|back up|say that again|repeat that|"
    r"let me (?:think|check|get|grab|see|find|write|finish))\b"
)
# "opt out" and "unsubscribe" as a request, not a noun ("the opt out rate", "unsubscribe users")
_AS_REQUEST = (
    r"(?=$|\x20\||\x20(?:me|us|my|this|of|from|now|already|thanks|thank|and|so|right|i|then|too|"
    r"completely|today|for|to|stop|or)\b)"
)

_STOP_CALLING = (
    r"(?<!not\x20)(?<!never\x20)(?<!they\x20)(?<!\bit\x20)\b"
    r"(?:stop|(?<!\bi\x20)(?<!we\x20)(?<!\bhe\x20)(?<!she\x20)stopped|quit|cease|discontinue|halt"
    r"|knock it off with|cut it out with)"
    r"(?: (?:it|and desist|with|all|the|these|those|this|your|any|further|future|such|of|making))*"
    rf" (?:{_CALLING}|{_PESTER})\b"
    r"(?!\x20(?:it|that|this)\x20(?:a|an)\b)"  # "don't call it a comeback"
    # "stop calls from going to voicemail"
    r"(?!\x20from\x20(?:going|being|dropping|ringing|getting|landing)\b)"
)
_DONT_CALL = (
    r"(?<!\bi\x20)(?<!\bwe\x20)(?<!they\x20)(?<!who\x20)"  # "I never call back unknown numbers"
    r"\b(?:do not|never|dont)(?: you)?(?: ever| even)?(?: bother)?(?: to)?"
    r" (?:call|calls|calling|contact|contacting|phone|phoning|ring|dial|text|message|robocall"
    r"|reach out(?: to)?)"
    r"(?: or (?:call|text|contact|email|phone|message))?"
    rf" (?:{_ME}|again|anymore|any more|back|no more|ever again)\b"
    r"(?!\x20(?:sir|maam|madam|mister|mr|mrs|ms|miss|dr|doctor|by|that|names|a|an)\b)"  # "don't call me sir"
)
_DONT_WANT_CALLS = (
    rf"\b{_NEG} (?:want|need|wish)(?: to (?:receive|get|have))?"
    r"(?: (?:any|these|those|your|more|further|future|the|such|anymore|of your|of these|other"
    r"|telemarketing|sales|phone))*"
    r" (?:calls|robocalls|robo calls|telemarketing|contact|calling)\b"
    r"(?! (?:going|to go|dropping|to drop)\b)"  # "we don't want calls going to voicemail"
)
_RATHER_NOT = (
    r"\b(?:rather|prefer)(?: you| that you| if you)? (?:not|did not|do not|would not|never)"
    r" (?:(?:call|contact|phone|ring)\b|be (?:called|contacted)"
    r"|(?:get|receive|have|take)(?: \w+){0,2} (?:calls|robocalls|telemarketing))"
)
_THREAT = (
    r"\b(?:report|sue|block|complain about)\b(?: \w+){0,8} if you (?:ever )?(?:call|contact|phone|ring)\b"
    r"|\bif you (?:ever )?(?:call|contact|phone|ring) (?:me |us |here |this number )?(?:again|one more time)"
    r"(?: i| we)?(?: will| am going to| are going to| going to| gonna)? (?:report|sue|block|complain)\b"
)
_TAKE_OFF = (
    r"\b(?:take|took|taking|get|got|getting|put|keep|cross|scratch|strike|pull|knock|drop)"
    rf" (?:me|us|{_NUMBER}) (?:off|of|out of|from)\b"
    r"(?!(?: the| your)? (?:hold|hook|speaker|speakerphone|mute|the phone|this call|the line)\b)"
)
_REMOVE_ME = (
    rf"\b(?:remove|delete|erase|purge|wipe|scrub|unlist|strike) (?:all |both )?(?:me|us|{_NUMBER})\b"
    r"(?!\x20(?:as|from\x20(?:the\x20|this\x20|that\x20|our\x20)?"  # "remove me as the admin"
    r"(?:cc|thread|email|invite|meeting|chat|group|channel|calendar|slack|team)\b))"
)
_REMOVED = (
    r"\b(?:i|me|we|us|my number|this number)"
    r"(?: (?:would|want|wanna|need|wish|like|love|to|can|could|d|please|must|will|am|have|asked|asking))*"
    r" (?:be|get|been|getting|got|being)"
    r" (?:removed|taken off|deleted|erased|unsubscribed|opted out|scrubbed|struck|crossed off)\b"
)
_OPT_OUT = (
    r"\bopt(?:ed|ing|s)? (?:me |us |my number )?out\b"
    + _AS_REQUEST
    + r"(?! of (?>(?:the |an |a |our |their |that )?)"  # "opt out of the auto renewal"
    r"(?!(?:all|these|your|you|calls?|calling|phone|robo\w*|telemarketing|marketing|future|further|any"
    r"|everything|this|list)\b)\w+)"
)
_UNSUBSCRIBE = (
    r"\bun ?subscrib\w*\b"
    + _AS_REQUEST
    + r"(?! (?:from|to) (?:their|his|her|its|that|those|the|a|netflix|spotify)\b)"
    r"(?! (?:my (?:team|staff|colleagues?|users|employees|kids?)|them|him|her|everyone) from\b)"
)
_SPANISH = (
    r"\bno (?:me |nos )?(?:llame|llames|llamen|llamar|vuelva a llamar|vuelvas a llamar|vuelvan a llamar)\b"
    r"|\bno mas llamadas\b"
    r"|\b(?:quiteme|quitame|saqueme|sacame|borre|borra) (?:de su lista|de la lista|mi numero)\b"
)

_RULES: tuple[tuple[str, str], ...] = (
    ("keyword_not_interested", rf"^(?:{_KW} )+(?:i am |we are |i am just |totally )?not interested\b"),
    ("keyword_not_interested", rf"\bnot interested(?: at all)?(?: so)? {_KW}(?: {_KW})*$"),
    ("stop_calling", _STOP_CALLING),
    ("stop_calling", r"\bend (?:all |these |those |the |your |any |future )*(?:calls|calling|robocalls)\b"),
    ("stop_calling", r"\bend (?:this|the) call(?: now| right now| please)*$"),
    ("dont_call", _DONT_CALL),
    (
        "dont_call",
        r"\b(?:do not|never) bother (?:me|us)(?: with (?:this|these|that))? "
        r"(?:again|anymore|any more|no more|ever)\b",
    ),
    ("not_to_call", rf"\bnot to (?:{_CALL_VERB}|bother) (?:{_ME}|again|anymore|back)\b"),
    ("not_to_call", r"\bnot to be (?:called|contacted|phoned|dialed|dialled|robocalled)\b"),
    (
        "not_to_call",
        rf"\byou(?: guys| people| all)? not {_CALL_VERB} (?:{_ME}|again|anymore|any more|back)\b",
    ),
    ("dont_want_calls", _DONT_WANT_CALLS),
    (
        "dont_want_calls",
        rf"\b{_NEG} (?:accept|take|answer|allow)(?: any| these| your| such)?"
        r" (?:telemarketing|sales|solicitation|cold|robo|marketing|these|your|such) ?(?:calls|robocalls)\b",
    ),
    (
        "dont_want_calls",
        rf"\b{_NEG} (?:want|wish|need) to (?:hear from|be hearing from|get (?:a )?calls? from)"
        r" (?:you|your company|you guys|you people|you all|anyone)\b",
    ),
    ("dont_want_calls", _RATHER_NOT),
    (
        "dont_want_calls",
        rf"\b{_NEG} (?:want|wish|like) to be"
        r" (?:called|contacted|phoned|bothered|disturbed|dialed)\b",
    ),
    (
        "dont_want_calls",
        r"\b(?:do not|dont) want (?:you|you all|you guys|you people|anyone|anybody|your company)"
        r"(?: to)? (?:call|calling|contact|contacting|phone|phoning|ring|ringing|bother|bothering)\b",
    ),
    (
        "calls_must_stop",
        r"\b(?:calls|calling|robocalls|phone calls)(?: from you(?: guys| people| all)?)?"
        r" (?:to|must|need to|have to|has to|got to|gotta|should|better|going to|gonna) (?:stop|end|cease)\b",
    ),
    ("calls_must_stop", _THREAT),
    (
        "calls_must_stop",
        r"\bmake (?:the |these |your |all |those )?(?:calls|calling|robocalls|it|them)"
        r" (?:stop|end)\b",
    ),
    (
        "no_more_calls",
        r"\bno more (?:of (?:these|your|the) )?(?:phone )?"
        r"(?:calls|calling|call|robocalls|robo calls|contact)\b",
    ),
    (
        "no_more_calls",
        r"(?:^|\|\x20)no (?:phone |sales |telemarketing |more )?calls"
        r"(?:\x20(?:please|ever|again|anymore|at all|thanks|thank you))*(?:\x20\||$)",
    ),
    (
        "no_more_calls",
        r"\b(?:enough|had enough) (?:with|of) (?:the |these |your |all |those )?"
        r"(?:calls|calling|robocalls|phone calls)\b",
    ),
    (
        "no_more_calls",
        r"\b(?:done|finished|through) with (?:these|your|the|all|those|you(?: guys| people)?)"
        r" ?(?:calls|calling|robocalls)?\b(?=.*\b(?:call|calling|calls)\b)",
    ),
    ("take_off_list", _TAKE_OFF),
    (
        "off_your_list",
        r"\b(?:off|out) (?:of )?(?:your|ur|this|you guys|you all|you people) (?:\w+ )?"
        r"(?:list|lists|database|system|records|registry)\b",
    ),
    ("remove_me", _REMOVE_ME),
    (
        "remove_me",
        r"\b(?:lose|forget|throw away|toss|get rid of|burn|shred) (?:my|this|our) (?:phone )?number\b",
    ),
    ("removed_passive", _REMOVED),
    (
        "removed_passive",
        r"\b(?:want|need|have|get) (?:it|this|that) (?:taken off|removed from|deleted from|off)"
        r"(?: \w+){0,3} (?:list|lists|database|system|records)\b",
    ),
    (
        "removed_passive",
        rf"\b(?:want|need|like|have|get) (?:me|us|{_NUMBER})"
        r" (?:removed|taken off|deleted|erased|off your)\b",
    ),
    (
        "do_not_call_list",
        r"\b(?:put|add|place|register|list|sign|stick)"
        rf" (?:me|us|my (?:\w+ )?number|this number|our number)(?: up)? (?:on|to|in|onto|into|for)"
        rf"(?: \w+){{0,3}} {_DNC}\b",
    ),
    (
        "do_not_call_list",
        r"\b(?:i am|we are|i have been|i was|we have been|my number is|this number is"
        r"|number is|i registered|i signed up|i put my number|i am registered)"
        r"(?: already| still| registered| listed)*"
        rf" (?:on|with|for|in) (?:the|a|your)?(?: \w+){{0,2}} ?{_DNC}\b",
    ),
    (
        "do_not_call_list",
        r"\b(?:be|been|being|get|go|stay|mark|marked|flag|flagged)"
        r"(?: (?:put|placed|added|listed|registered))? (?:me |us |my number |this number )?"
        rf"(?:as|on|to|onto|in|into)(?: \w+){{0,3}} {_DNC}\b",
    ),
    (
        "do_not_call_list",
        rf"\b(?:this|my|our|that)(?: number| phone| line)? is (?:a |on (?:the |a )?)?{_DNC}\b",
    ),
    ("opt_out", _OPT_OUT),
    ("opt_out", r"\boptout\b" + _AS_REQUEST),
    ("unsubscribe", _UNSUBSCRIBE),
    (
        "revoke_consent",
        r"\b(?:revoke|revoking|revoked|withdraw|withdrawing|rescind|rescinding|retract|take back"
        r"|pull|cancel|cancelling|canceling)(?: \w+){0,2}"
        r" (?:consent|permission|authorization|authorisation)\b",
    ),
    (
        "revoke_consent",
        r"\b(?:do not|never|did not|no longer) (?:consent|agree|agreed) to"
        r" (?:(?:these|this|your|the|any|being|be) )?(?:calls?|called|contacted|calling)\b",
    ),
    (
        "revoke_consent",
        r"\b(?:never|did not|do not|no longer)(?: \w+)? (?:gave|give|given|have|had|grant|granted)"
        r"(?: you| your company| anyone| you guys| you people)?(?: my| any)?"
        r" (?:permission|consent|authorization) to (?:call|contact|phone|text|ring|robocall)\b",
    ),
    (
        "cancel_calls",
        r"\bcancel (?:all |any |these |those |the |your |my |future |further )*"
        r"(?:calls|calling|robocalls|phone calls|me|my number)\b",
    ),
    ("leave_alone", r"\bleave (?:me|us|my family|my (?:\w+ )?phone)(?: the hell| the heck)? alone\b"),
    ("spanish", _SPANISH),
)
_COMPILED = tuple((name, re.compile(pattern.replace(" ", _GAP))) for name, pattern in _RULES)


def _keyword_turn(text: str) -> bool:
    """A clause made only of opt-out keywords ("stop", "stop it please", "opt out", "dnc").

    Not when the turn pauses the agent rather than ending the call ("stop, wait, let me get my
    calendar"): those keep their other rules.
    """
    clauses = [c.strip() for c in text.split("|")]
    if not any(_KEYWORD_CLAUSE.fullmatch(c) for c in clauses if c):
        return False
    return _PAUSE_CUE.search(text) is None


def match_opt_out(transcript: str) -> str | None:
    """The name of the first rule the caller's turn matches, or None (for the audit trail)."""
    text = normalize(transcript)
    if not text:
        return None
    if _keyword_turn(text):
        return "keyword_turn"
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return name
    return None


def is_opt_out(transcript: str) -> bool:
    """True when the caller's turn asks not to be called (any rule above)."""
    return match_opt_out(transcript) is not None
