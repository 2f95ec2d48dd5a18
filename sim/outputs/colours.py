"""The house colours, one per outcome in every figure and on the page (Okabe–Ito:
green, vermillion, reddish purple and blue stay apart under the common colour vision
deficiencies, and each is dark enough for white labels on it). No matplotlib here, so the
page can use them without it."""

COLOURS = {"sale": "#009E73", "shutdown": "#D55E00", "abandoned": "#CC79A7",
           "unresolved": "#0072B2", "any": "#000000"}
NEUTRAL = "#777777"
