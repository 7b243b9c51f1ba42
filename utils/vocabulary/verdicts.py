"""The label vocabulary: the judge's five labels, what each means for each side, and the winner codes.

A judge ends its text with one label comparing assistant A with assistant B
(docs/design.md#labels). Game 1 shows the baseline as A, game 2 swaps the
answers, so a label of game 2 is mirrored before it counts. A verdict is a
(winner, strong) pair: the winner as a code (WINNER_A is the baseline,
model_a; WINNER_B the judged model, model_b; TIE), and whether the label says
"clearly better" (a strong verdict counts ``weight`` times). Every module that
reads, writes, counts or shows a label takes it from here.
"""
from __future__ import annotations

# The labels as we ask for them, from A's clear win to B's (the structured verdicts' enum, in this order)
LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")

# A regular expression that finds a label in a judge's text: its first group is the label, e.g. [[A>B]].
DEFAULT_LABEL_PATTERN = r"\[\[([AB<>=]+)\]\]"

WINNER_A, WINNER_B, TIE = 0, 1, 2
# A's share of the win, by winner code; np.take(TARGET, winners) for an array of codes. Plain numbers, so that
# the steps that only ask models never load numpy (it adds a tenth of a second to their start).
TARGET = (1.0, 0.0, 0.5)

# The battles file's winner names, by winner code (what our battles file writes)
WINNER_NAMES = ("model_a", "model_b", "tie")
# ... and every name a battles file may hold: the original tool also writes "tie (bothbad)"
WINNER_CODES = {"model_a": WINNER_A, "model_b": WINNER_B, "tie": TIE, "tie (bothbad)": TIE}

# A model's share of games without a label above which a run warns (once it has stored enough games for a share
# to say something), and what to change about the judge
UNLABELLED_WARN = 0.2
UNLABELLED_MIN_GAMES = 4
NO_LABEL_ADVICE = ("a small judge often writes a verdict only when asked for JSON: structured_verdicts: true in the "
                   "judge settings (docs/judges.md); a judge with its own way of writing one needs regex_patterns")
# the same, to a judge that was asked for JSON already
STRUCTURED_NO_LABEL_ADVICE = ("structured_verdicts is on already, and the judge's replies held no verdict field either: "
                              "its endpoint may ignore response_format (docs/judges.md), or the judge is too small for "
                              "the task; a judge with its own way of writing one needs regex_patterns")


def no_label_advice(structured: bool) -> str:
    """What to change about a judge whose texts hold no label, given whether it was asked for JSON verdicts."""
    return STRUCTURED_NO_LABEL_ADVICE if structured else NO_LABEL_ADVICE

# Label as written in game 1 (baseline = A) -> (winner, strong). Both spellings of
# each verdict appear in published files ("B>A" and "A<B").
SPELLINGS = {
    "A>>B": (WINNER_A, True), "B<<A": (WINNER_A, True),
    "A>B": (WINNER_A, False), "B<A": (WINNER_A, False),
    "A=B": (TIE, False), "B=A": (TIE, False),
    "B>A": (WINNER_B, False), "A<B": (WINNER_B, False),
    "B>>A": (WINNER_B, True), "A<<B": (WINNER_B, True),
}
_MIRROR = {WINNER_A: WINNER_B, WINNER_B: WINNER_A, TIE: TIE}
_GAME_VERDICTS = (
    {label: v for label, v in SPELLINGS.items()},  # game 1: baseline is A
    {label: (_MIRROR[w], strong) for label, (w, strong) in SPELLINGS.items()},  # game 2: the model is A
)


def label_verdict(game_index: int, label: object) -> tuple[int, bool] | None:
    """(winner, strong) of game ``game_index``'s label, game 2 un-swapped; None for a missing or unknown label.

    The winner is WINNER_A for the baseline (model_a), WINNER_B for the model, or TIE.
    """
    return _GAME_VERDICTS[game_index].get(label) if isinstance(label, str) else None


def is_label(text: str) -> bool:
    """One of the five labels, or one of their mirror spellings (``B<A`` is ``A>B``)."""
    return label_verdict(0, text) is not None


# ---------------------------------------------------------------- from the model's side (Arena-Hard v2.0)

# What an outcome unit can be worth to the model: a loss, a tie, a win
UNIT_SCORES = (0.0, 0.5, 1.0)
_MODEL_OUTCOMES = tuple({label: (1.0 - TARGET[winner], strong) for label, (winner, strong) in verdicts.items()}
                        for verdicts in _GAME_VERDICTS)  # TARGET is the baseline's (model_a's) share


def model_outcome(game_index: int, label: object) -> tuple[float, bool] | None:
    """(the model's share of game ``game_index``: 1 a win, 0.5 a tie, 0 a loss; strong), None as label_verdict."""
    return _MODEL_OUTCOMES[game_index].get(label) if isinstance(label, str) else None


# ---------------------------------------------------------------- the report's words

# A verdict as the report names it: from the judged model's side in both games (game 2 un-swapped), so a
# reader never mirrors a label in their head; "strong" where the label says "clearly better"
OUTCOME_WORDS = {(WINNER_A, True): "strong loss", (WINNER_A, False): "loss", (TIE, False): "tie",
                 (WINNER_B, False): "win", (WINNER_B, True): "strong win"}


def outcome_word(game_index: int, label: object) -> str | None:
    """A game's label in the report's words (the model's win, loss...), or None for a missing or unknown label."""
    verdict = label_verdict(game_index, label)
    return None if verdict is None else OUTCOME_WORDS[verdict]
