"""Parsing a mapping's row filters and value sources (column, constant, supp, from, aggregate, transforms)."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from .cells import toml_text
from .mapping import AGGREGATES, TEST_KEYS, TEST_KINDS, VALUE_KEYS, Filter, Test, Value
from .mapping_checks import KeyPath, MappingChecker, key_name, shown


class ValueParser(MappingChecker):
    """The parts of an entry that read rows: its filters (where, where_any) and each value's source."""

    def filter(self, where: object, where_any: object, path: KeyPath) -> Filter:
        result = Filter(self.tests(where, (*path, "where")))
        if where_any is not None:
            if not isinstance(where_any, list) or not where_any:
                raise self.fail((*path, "where_any"), "must be a list of filter tables, one of which a row passes")
            result.any_of = [self.tests(t, (*path, "where_any", i)) for i, t in enumerate(where_any)]
        return result

    def tests(self, where: object, path: KeyPath) -> list[Test]:
        if not isinstance(where, dict):
            raise self.fail(path, f"must be a table of COLUMN = condition, not {shown(where)}")
        return [self.test(column, spec, (*path, column)) for column, spec in where.items()]

    def test(self, column: str, spec: object, path: KeyPath) -> Test:
        columns = (self.column(column, path),)
        if isinstance(spec, list):
            spec = {"one_of": spec}
        elif not isinstance(spec, dict):
            spec = {"equals": spec}
        self.keys(spec, TEST_KEYS, path)
        kinds = [k for k in TEST_KINDS if k in spec]
        if len(kinds) != 1:
            raise self.fail(path, "a condition needs exactly one of " + ", ".join(TEST_KINDS)
                            + (f"; it has {', '.join(kinds)}" if kinds else ""))
        kind = kinds[0]
        ignore_case = self.boolean(spec.get("ignore_case", False), (*path, "ignore_case"))
        negate = self.boolean(spec.get("not", False), (*path, "not"))
        raw = spec[kind]
        if kind == "empty":
            return Test(columns, kind, ("yes" if self.boolean(raw, (*path, kind)) else "no",), negate=negate)
        if kind == "regex":
            text = raw if isinstance(raw, str) else None
            if text is None:
                raise self.fail((*path, kind), f"must be a regular expression in quotes, not {shown(raw)}")
            try:
                pattern = re.compile(text, re.IGNORECASE if ignore_case else 0)
            except re.error as exc:
                raise self.fail((*path, kind), f"not a valid regular expression ({exc})") from None
            return Test(columns, kind, pattern=pattern, ignore_case=ignore_case, negate=negate)
        items = raw if isinstance(raw, list) else [raw]
        if kind == "equals" and isinstance(raw, list) or not items or any(isinstance(v, (dict, list)) for v in items):
            raise self.fail((*path, kind), f"must be {'a value' if kind == 'equals' else 'a value or a list of values'}"
                            f", not {shown(raw)}")
        values = tuple(toml_text(v) for v in items)
        if ignore_case:
            values = tuple(v.casefold() for v in values)
        return Test(columns, kind, values, ignore_case=ignore_case, negate=negate)

    def value(self, spec: object, path: KeyPath, grouped: bool, domain: str | None = None) -> Value:
        key, line = key_name(path), self.locator.line(path)
        if isinstance(spec, str):
            return Value(key, line, column=self.column(spec, path))
        if not isinstance(spec, dict):
            raise self.fail(path, f"must be a column name or a table such as {{ column = \"X\" }}, not {shown(spec)}")
        self.keys(spec, VALUE_KEYS, path)
        value = Value(key, line)
        sources = [k for k in ("column", "value", *AGGREGATES, "supp") if k in spec]
        if len(sources) != 1:
            raise self.fail(path, "say where the value comes from with exactly one of column, value, supp, "
                            + ", ".join(AGGREGATES) + (f"; it has {', '.join(sources)}" if sources else ""))
        source = sources[0]
        if source == "value":
            if isinstance(spec["value"], (dict, list)):
                raise self.fail((*path, "value"),
                                f"must be a text, number, date or true/false, not {shown(spec['value'])}")
            value.constant = toml_text(spec["value"])
        elif source == "supp":
            if domain is None:
                raise self.fail((*path, "supp"), "a supplemental qualifier belongs to an entry's domain")
            qnam = self.text(spec["supp"], (*path, "supp"), "a QNAM").upper()
            value.lookup, value.column = f"SUPP{domain}", "QVAL"
            tests = [Test(("QNAM",), "equals", (qnam,)), Test(("RDOMAIN",), "equals", (domain,))]
            if domain != "DM":
                tests.append(Test(("IDVAR",), "equals", (f"{domain}SEQ",)))
                value.match = {"IDVARVAL": f"{domain}SEQ"}
            value.where = Filter(tests)
        elif source in AGGREGATES:
            if not grouped:
                raise self.fail((*path, source), f"'{source}' adds up a group's rows; give the entry a group_by")
            value.aggregate, value.column = source, self.column(spec[source], (*path, source))
        else:
            value.column = self.column(spec["column"], (*path, "column"))
        if "from" in spec:
            if source != "column":
                raise self.fail((*path, "from"), "'from' reads a column of another domain: use it with 'column'")
            value.lookup = self.text(spec["from"], (*path, "from"), "a domain code such as \"DM\"").upper()
        if "match" in spec:
            if value.lookup is None or source == "supp":
                raise self.fail((*path, "match"), "'match' pairs the columns of a 'from' domain with this row's")
            match = spec["match"]
            if not isinstance(match, dict) or not match:
                raise self.fail((*path, "match"), "must be a table of FROM_COLUMN = \"THIS_COLUMN\"")
            value.match = {self.column(k, (*path, "match", k)): self.column(v, (*path, "match", k))
                           for k, v in match.items()}
        if "where" in spec:
            if source == "supp" or not (value.lookup or grouped):
                raise self.fail((*path, "where"), "a value's own filter picks rows of a group (group_by) or of a "
                                "'from' domain")
            value.where = Filter(self.tests(spec["where"], (*path, "where")))
        value.ignore_case = self.boolean(spec.get("ignore_case", False), (*path, "ignore_case"))
        if "map" in spec:
            if source in ("sum", "count"):
                raise self.fail((*path, "map"), f"a value map does not apply to a {source}")
            table = spec["map"]
            if not isinstance(table, dict) or not table or any(isinstance(v, (dict, list)) for v in table.values()):
                raise self.fail((*path, "map"), "must be a table of \"AS WRITTEN\" = \"AS THE PROTOCOL SAYS\"")
            value.mapping = {(k.casefold() if value.ignore_case else k): toml_text(v) for k, v in table.items()}
        if "other" in spec:
            if value.mapping is None:
                raise self.fail((*path, "other"), "'other' is the value for anything a 'map' does not list")
            if isinstance(spec["other"], (dict, list)):
                raise self.fail((*path, "other"), f"must be a text, not {shown(spec['other'])}")
            value.other = toml_text(spec["other"])
        if "part" in spec:
            if spec["part"] not in ("date", "time"):
                raise self.fail((*path, "part"), f"must be \"date\" or \"time\", not {shown(spec['part'])}")
            value.part = spec["part"]
        if "scale" in spec:
            scale = spec["scale"]
            if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale):
                raise self.fail((*path, "scale"), f"must be a number, not {shown(scale)}")
            value.scale = Decimal(str(scale))
        if "missing" in spec:
            if source not in AGGREGATES:
                raise self.fail((*path, "missing"), "'missing' says what an aggregate does with empty values")
            if spec["missing"] not in ("empty", "skip"):
                raise self.fail((*path, "missing"), f"must be \"empty\" or \"skip\", not {shown(spec['missing'])}")
            value.missing = spec["missing"]
        return value
