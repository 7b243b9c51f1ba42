"""The report: a computed leaderboard and the texts behind it as one self-contained HTML page.

Only imported when show_result is asked for --html.
"""
