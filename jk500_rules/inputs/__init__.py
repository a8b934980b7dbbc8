"""Inputs: visit logs and SDTM domains read into validated records."""
