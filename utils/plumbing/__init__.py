"""Plumbing every stage shares: errors, flags, configuration, file names and crash-safe files.

Only config.py, which validates the settings files, speaks the vocabulary (labels, answer checks) and asks
the provider registry which ``api_type``s exist; the rest knows nothing of questions, answers or verdicts.

* errors.py        InputError / StorageError and the exit status each gives
* cli.py           run_cli (one way to report errors), the asking steps' shared flags
* config.py        YAML with line numbers, ${ENV_VAR} interpolation, validation, the settings dataclasses
                   (each api_config entry checked against its provider, utils/asking/providers)
* entry.py         one api_config entry as the code reads it: ModelConfig, Endpoint, Price
* names.py         model names as safe file names; every data path, kept inside the data directory
* store.py         crash-safe JSON-lines stores: lock, append+fsync, resume, ordered rewrite
* recovery.py      where results a full disk could not take are kept aside, for the next run to take in
* jsonl.py         the one JSON-lines reader
* forked.py        work in a forked child, overlapping this process's on the second core: a value, a file
* parse_cache.py   what show_result parsed of each file, kept in the user's cache while the file is unchanged
* keys.py          API keys read clean and masked in everything printed
* fix_commands.py  the gen_answer.py / gen_judgment.py command lines a message hands the user
"""
