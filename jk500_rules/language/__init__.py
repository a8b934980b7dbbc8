"""The language: grammar loading, the parser and its syntax tree, the formatter."""
