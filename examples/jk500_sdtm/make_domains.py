"""Write the JK500 example visit log (../jk500_visits.csv) as SDTM domain files, one CSV per domain.

Standard library only, deterministic: the same log gives byte-identical files. `--check` writes nothing
and exits 1 if a file differs from what would be written (or is missing, or is not written by this
script). README.md says which domain holds which event type and why.

    python examples/jk500_sdtm/make_domains.py           # rewrite the domain files
    python examples/jk500_sdtm/make_domains.py --check   # compare only
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOG = HERE.parent / "jk500_visits.csv"

COLUMNS = {
    "dm": ["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC", "RFICDTC",
           "SITEID", "BRTHDTC", "ARMCD", "ARM", "ACTARMCD", "ACTARM"],
    "ds": ["STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "DSSTDTC"],
    "suppds": ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"],
    "vs": ["STUDYID", "DOMAIN", "USUBJID", "VSSEQ", "VSTESTCD", "VSTEST", "VSORRES", "VSORRESU", "VSSTRESC",
           "VSSTRESN", "VSSTRESU", "VSDTC"],
    "xs": ["STUDYID", "DOMAIN", "USUBJID", "XSSEQ", "XSCAT", "XSTESTCD", "XSTEST", "XSORRES", "XSSTAT", "XSDTC"],
    "mh": ["STUDYID", "DOMAIN", "USUBJID", "MHSEQ", "MHTERM", "MHCAT", "MHSTDTC"],
    "suppmh": ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"],
    "pr": ["STUDYID", "DOMAIN", "USUBJID", "PRSEQ", "PRTRT", "PRCAT", "PRSCAT", "PRSTDTC"],
    "cm": ["STUDYID", "DOMAIN", "USUBJID", "CMSEQ", "CMTRT", "CMCAT", "CMCLAS", "CMSTDTC", "CMENDTC"],
    "mb": ["STUDYID", "DOMAIN", "USUBJID", "MBSEQ", "MBTESTCD", "MBTEST", "MBORRES", "MBSTRESC", "MBSPEC", "MBDTC"],
    "lbch": ["STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBCAT", "LBORRES", "LBSTRESC",
             "LBSTRESN", "LBSTNRHI", "LBDTC"],
    "lbmr": ["STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBCAT", "LBSPEC", "LBORRES",
             "LBSTRESC", "LBDTC"],
    "ex": ["STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXSTDTC"],
    "ae": ["STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AETOXGR", "AESTDTC"],
    "suppae": ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"],
    "rs": ["STUDYID", "DOMAIN", "USUBJID", "RSSEQ", "RSTESTCD", "RSTEST", "RSORRES", "RSSTRESC", "RSDTC"],
}
LOG_COLUMNS = ["study", "site", "subject", "date", "event", "dose_group", "decision"]

NOMINAL_DOSE = {"1": "1e6", "2": "5e6", "3": "3e7"}
YES_NO = {"yes": "Y", "no": "N", "": ""}
SEROLOGY = {"HIV-Ab": ("HIVAB", "HIV Antibody"), "HBsAg": ("HBSAG", "Hepatitis B Surface Antigen"),
            "HBeAg": ("HBEAG", "Hepatitis B e Antigen"), "HCV-Ab": ("HCVAB", "Hepatitis C Virus Antibody"),
            "TP-Ab": ("TPAB", "Treponema pallidum Antibody")}
LABS = {"creatinine": ("CREAT", "Creatinine"), "bilirubin": ("BILI", "Bilirubin"),
        "AST": ("AST", "Aspartate Aminotransferase"), "ALT": ("ALT", "Alanine Aminotransferase")}
DRUGS = {"cyclophosphamide": ("CYCLOPHOSPHAMIDE", "mg/kg"), "fludarabine": ("FLUDARABINE", "mg/m2"),
         "il2": ("INTERLEUKIN-2", "WU/m2"), "infusion": ("JK500", "cells/kg")}
DISPOSITION = {"withdrew": "WITHDRAWAL BY SUBJECT", "toxicity": "ADVERSE EVENT", "died": "DEATH"}
CHECKLIST = [("eligible", "ELIGIBLE", "Investigator confirms the subject eligible"),
             ("active_infection", "ACTINF", "Active infection"),
             ("surgery_planned", "SURGPLAN", "Major surgery planned during the trial")]
HISTORY = [("standard_inductions", "INDUCT", "Standard-dose induction courses"),
           ("cr_date", "CRDTC", "Date of complete remission"),
           ("relapse_date", "RELDTC", "Date of relapse")]


class Writer:
    """The domain rows, with --SEQ numbered per subject in the order of the log."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.seq: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, name: str, study: str, subject: str, **values: str) -> str:
        """Add a row to domain file `name`; returns its --SEQ."""
        domain = "LB" if name.startswith("lb") else name.upper()
        self.seq[(domain, subject)] += 1
        seq = str(self.seq[(domain, subject)])
        row = {"STUDYID": study, "DOMAIN": domain, "USUBJID": subject, f"{domain}SEQ": seq, **values}
        self.rows[name].append(row)
        return seq

    def supp(self, domain: str, study: str, subject: str, seq: str, qnam: str, label: str, value: str) -> None:
        if value:
            self.rows[f"supp{domain.lower()}"].append({
                "STUDYID": study, "RDOMAIN": domain, "USUBJID": subject, "IDVAR": f"{domain}SEQ",
                "IDVARVAL": seq, "QNAM": qnam, "QLABEL": label, "QVAL": value, "QORIG": "CRF"})


def _datetime(row: dict[str, str]) -> str:
    return f"{row['date']}T{row['time']}" if row.get("time") else row["date"]


def build(log_rows: list[dict[str, str]]) -> dict[str, str]:
    """The text of each file to write, by file name."""
    out = Writer()
    decisions: list[dict[str, str]] = []
    subjects: dict[str, dict[str, object]] = {}
    for row in log_rows:
        event, study, subject, date = row["event"], row["study"], row["subject"], row["date"]
        if not subject:
            if event != "src_decision":
                raise SystemExit(f"a trial-level {event} row: only src_decision rows have no subject")
            decisions.append({c: row.get(c, "") for c in LOG_COLUMNS})
            continue
        info = subjects.setdefault(subject, {"study": study, "site": row["site"], "consents": [], "birth": set(),
                                             "group": set(), "jk500": []})
        if row["site"] != info["site"]:
            raise SystemExit(f"{subject} has rows at sites {info['site']} and {row['site']}")
        if event == "consent":
            info["consents"].append(date)
            info["birth"].add(row["birth_date"])
            seq = out.add("ds", study, subject, DSTERM="INFORMED CONSENT OBTAINED",
                          DSDECOD="INFORMED CONSENT OBTAINED", DSCAT="PROTOCOL MILESTONE", DSSTDTC=date)
            out.supp("DS", study, subject, seq, "SIGNEDBY", "Consent Signed By", row["signed_by"])
        elif event == "enrolment":
            info["group"].add(row["dose_group"])
            out.add("ds", study, subject, DSTERM="ENROLLED", DSDECOD="ENROLLED", DSCAT="PROTOCOL MILESTONE",
                    DSSTDTC=date)
            if row["weight"]:
                out.add("vs", study, subject, VSTESTCD="WEIGHT", VSTEST="Weight", VSORRES=row["weight"],
                        VSORRESU="kg", VSSTRESC=row["weight"], VSSTRESN=row["weight"], VSSTRESU="kg", VSDTC=date)
        elif event == "discontinuation":
            decod = DISPOSITION[row["reason"]]
            out.add("ds", study, subject, DSTERM=decod, DSDECOD=decod, DSCAT="DISPOSITION EVENT", DSSTDTC=date)
        elif event in ("screening", "disease_history"):
            category, items = (("ELIGIBILITY CHECKLIST", CHECKLIST) if event == "screening"
                               else ("DISEASE HISTORY", HISTORY))
            for name, code, label in items:
                value = YES_NO[row[name]] if event == "screening" else row[name]
                out.add("xs", study, subject, XSCAT=category, XSTESTCD=code, XSTEST=label, XSORRES=value,
                        XSSTAT="" if value else "NOT DONE", XSDTC=date)
        elif event == "diagnosis":
            seq = out.add("mh", study, subject, MHTERM=row["disease"], MHCAT="PRIMARY DIAGNOSIS", MHSTDTC=date)
            out.supp("MH", study, subject, seq, "DXCLASS", "Diagnostic Classification", row["classification"])
            out.supp("MH", study, subject, seq, "CNSLEUK", "CNS Leukemia", YES_NO[row["cns_leukemia"]])
        elif event == "medical_history":
            seq = out.add("mh", study, subject, MHTERM=row["condition"], MHCAT="GENERAL MEDICAL HISTORY",
                          MHSTDTC=date)
            out.supp("MH", study, subject, seq, "MHCLSIG", "Clinically Significant", YES_NO[row["significant"]])
        elif event == "surgery":
            out.add("pr", study, subject, PRTRT=row["procedure"], PRCAT="SURGERY",
                    PRSCAT={"yes": "MAJOR", "no": "MINOR"}[row["major"]], PRSTDTC=date)
        elif event == "other_trial":
            out.add("cm", study, subject, CMTRT=row["trial"], CMCAT="INVESTIGATIONAL PRODUCT OF ANOTHER TRIAL",
                    CMCLAS="", CMSTDTC="", CMENDTC=date)
        elif event == "vaccination":
            out.add("cm", study, subject, CMTRT=row["vaccine"], CMCAT="VACCINATION",
                    CMCLAS={"yes": "LIVE ATTENUATED VACCINE", "no": "NON-LIVE VACCINE"}[row["live_attenuated"]],
                    CMSTDTC=date, CMENDTC="")
        elif event == "serology":
            code, label = SEROLOGY[row["test"]]
            result = {"yes": "POSITIVE", "no": "NEGATIVE"}[row["positive"]]
            out.add("mb", study, subject, MBTESTCD=code, MBTEST=label, MBORRES=result, MBSTRESC=result,
                    MBSPEC="SERUM", MBDTC=date)
        elif event == "lab":
            code, label = LABS[row["test"]]
            out.add("lbch", study, subject, LBTESTCD=code, LBTEST=label, LBCAT="CHEMISTRY", LBORRES=row["result"],
                    LBSTRESC=row["result"], LBSTRESN=row["result"], LBSTNRHI=row["uln"], LBDTC=date)
        elif event == "mrd":
            status = row["status"].upper()
            out.add("lbmr", study, subject, LBTESTCD="MRD", LBTEST="Minimal Residual Disease",
                    LBCAT="MINIMAL RESIDUAL DISEASE", LBSPEC="BONE MARROW", LBORRES=status, LBSTRESC=status,
                    LBDTC=date)
        elif event in DRUGS:
            treatment, unit = DRUGS[event]
            out.add("ex", study, subject, EXTRT=treatment, EXDOSE=row["dose"], EXDOSU=unit if row["dose"] else "",
                    EXSTDTC=_datetime(row))
            if event == "infusion":
                info["jk500"].append(_datetime(row))
        elif event == "adverse_event":
            seq = out.add("ae", study, subject, AETERM=row["term"], AETOXGR=row["grade"], AESTDTC=date)
            out.supp("AE", study, subject, seq, "TOXGRV", "Toxicity Grading Scale and Version", row["grading"])
        elif event == "response":
            out.add("rs", study, subject, RSTESTCD="OVRLRESP", RSTEST="Overall Response", RSORRES=row["result"],
                    RSSTRESC=row["result"], RSDTC=date)
        else:
            raise SystemExit(f"no domain for event type {event}: extend make_domains.py")
    for subject, info in sorted(subjects.items()):
        if len(info["birth"]) > 1 or len(info["group"]) > 1:
            raise SystemExit(f"{subject}: DM holds one birth date and one arm; the log gives several")
        group = next(iter(info["group"]), "")
        arm = f"Dose group {group}: {NOMINAL_DOSE[group]} cells/kg" if group else ""
        jk500 = sorted(info["jk500"])
        out.rows["dm"].append({
            "STUDYID": info["study"], "DOMAIN": "DM", "USUBJID": subject, "SUBJID": subject.rsplit("-", 1)[-1],
            "RFSTDTC": jk500[0] if jk500 else "", "RFENDTC": jk500[-1] if jk500 else "",
            "RFXSTDTC": jk500[0] if jk500 else "", "RFXENDTC": jk500[-1] if jk500 else "",
            "RFICDTC": min(info["consents"], default=""), "SITEID": info["site"],
            "BRTHDTC": next(iter(info["birth"]), ""), "ARMCD": f"DG{group}" if group else "", "ARM": arm,
            "ACTARMCD": f"DG{group}" if group else "", "ACTARM": arm})
    files: dict[str, str] = {}
    for name, columns in COLUMNS.items():
        rows = out.rows.get(name, [])
        seq = f"{rows[0]['DOMAIN']}SEQ" if rows and "DOMAIN" in rows[0] and name != "dm" else None
        if name.startswith("supp"):
            rows = sorted(rows, key=lambda r: (r["USUBJID"], int(r["IDVARVAL"]), r["QNAM"]))
        elif seq:
            rows = sorted(rows, key=lambda r: (r["USUBJID"], int(r[seq])))
        files[f"{name}.csv"] = _csv(columns, rows)
    files["src_decisions.csv"] = _csv(LOG_COLUMNS, decisions)
    return files


def _csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        extra = set(row) - set(columns)
        if extra:
            raise SystemExit(f"columns {sorted(extra)} are not declared for this domain")
        writer.writerow(row)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    with LOG.open(newline="", encoding="utf-8") as handle:
        files = build(list(csv.DictReader(handle)))
    stale = [name for name, text in files.items()
             if not (HERE / name).is_file() or (HERE / name).read_text(encoding="utf-8") != text]
    strays = sorted(p.name for p in HERE.glob("*.csv") if p.name not in files)
    if args.check:
        for name in stale:
            print(f"{HERE / name} differs from what make_domains.py writes")
        for name in strays:
            print(f"{HERE / name} is not written by make_domains.py")
        return 1 if stale or strays else 0
    for name in strays:
        print(f"note: {HERE / name} is not written by make_domains.py; remove it if it is a stale domain")
    for name in stale:
        (HERE / name).write_text(files[name], encoding="utf-8", newline="")
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
