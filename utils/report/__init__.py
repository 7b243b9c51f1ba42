"""The report: a computed leaderboard and the texts behind it as one self-contained HTML page.

inputs.py takes the texts from what the run read; markdown_html.py renders them as markdown and sanitises
the HTML; html_report.py renders the page from them (page.html, report.css and report.js beside it are the
page's markup, style and script). Only imported when show_result is asked
for --html.
"""
