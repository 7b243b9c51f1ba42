"""Asking models: the steps that pay for requests (gen_answer.py, gen_judgment.py).

The SDK clients and their retries, the crash-safe run that stores every reply as it
arrives, answering the questions, and judging each answer against the baseline's.
"""
