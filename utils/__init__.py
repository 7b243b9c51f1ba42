"""The library behind gen_answer.py, gen_judgment.py and show_result.py: one module per concern."""
