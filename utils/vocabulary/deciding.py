"""The defaults of deciding between two models, shared by the math (utils/ranking/sequential.py) and the
command line (utils/deciding/flags.py): here, without numpy, so that gen_judgment.py starts without it."""

DEFAULT_ALPHA = 0.05  # 95 % intervals
DEFAULT_MARGIN = 1.0  # points: an interval inside +-1 point is "equivalent"
DEFAULT_ROUND = 25  # questions per round
