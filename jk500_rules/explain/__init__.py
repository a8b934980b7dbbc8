"""Rules in plain English: reads the compiled rules and their syntax tree."""
