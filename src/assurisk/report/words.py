"""Plain words for the codes of the case table and the model, and the report's glossary.

A court document never shows a code such as ``high_profile`` or ``partly_breached`` without its words:
every code the report prints goes through :func:`say`; an unknown code is printed as it is (escaped
by the template), so a new value in a rebuilt table shows up rather than vanishing.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "case_type": {"ordinary": "ordinary criminal case", "high_profile": "high-profile case"},
    "case_type_short": {"ordinary": "ordinary", "high_profile": "high-profile"},
    "outcome": {"honored": "honoured", "breached": "breached", "unknown": "outcome not known",
                "partly_breached": "partly breached", "not_transferred": "not transferred", "": "not transferred"},
    "monitoring": {"none": "no monitoring", "consular": "consular visits", "independent": "independent monitor",
                   "not_known": "not known whether monitored", "public_record": "open court record"},
    "assurance": {"torture": "no torture", "detention_conditions": "detention conditions",
                  "death_penalty": "no death penalty", "fair_trial": "fair trial",
                  "consular_access": "consular access", "specialty": "specialty (tried only for the surrender offences)",
                  "other": "other undertaking"},
    "assurance_kind": {"case_specific": "case-specific undertaking", "treaty": "treaty or memorandum",
                       "informal": "informal or oral"},
    "formality": {"treaty": "treaty", "memorandum": "memorandum of understanding", "diplomatic_note": "diplomatic note",
                  "case_letter": "letter or undertaking for this case", "oral": "oral assurance"},
    "promise_context": {"transfer_condition": "given to obtain this transfer",
                        "standing_obligation": "standing treaty or agreement", "after_transfer": "given after transfer"},
    "item_status": {"kept": "kept", "broken": "broken", "unknown": "not known"},
    "breach_gravity": {"grave": "grave", "minor": "minor", "": ""},
    "evidence_strength": {"strong": "strong", "moderate": "moderate", "weak": "weak"},
    "transfer_type": {"extradition": "extradition", "deportation": "deportation", "rendition": "rendition",
                      "military_transfer": "military transfer", "detention_of_foreign_national": "held foreign national",
                      "other": "other"},
    "breach_detected_by": {"court": "a court", "un_body": "a UN body", "ngo": "an NGO", "consular": "consular staff",
                           "media": "the media", "family_or_lawyer": "family or lawyer", "government": "a government"},
    "case_type_criteria": {"political": "political", "security": "security", "prominence": "prominent person",
                           "state_interest": "declared state interest", "media": "media coverage"},
    "model": {"monitoring_aware": "monitoring-aware model", "face_value": "face-value model"},
}


def say(kind: str, code) -> str:
    """Plain words for ``code`` of ``kind``; the code itself when it has none."""
    c = "" if code is None else str(code).strip()
    return WORDS.get(kind, {}).get(c, c.replace("_", " "))


def say_list(kind: str, codes: str, sep: str = ";") -> str:
    return ", ".join(say(kind, c) for c in str(codes).split(sep) if c.strip())


PRIOR_WORDS = {
    "intercept_mu": "centre of the log-odds that a torture promise to an ordinary suspect is kept (average state)",
    "intercept_sigma": "spread of that log-odds",
    "sigma_state": "scale of the differences between states",
    "high_profile_mu": "centre of the high-profile effect (log-odds)",
    "high_profile_sigma": "spread of the high-profile effect on every item",
    "high_profile_treatment_sigma": "spread of the extra high-profile effect on items no court record shows",
    "sigma_state_high_profile": "scale of state-specific high-profile differences",
    "covariate_mu": "centre of the state-year covariate's effect (Political Terror Scale or Fariss scores)",
    "covariate_sigma": "spread of the state-year covariate's effect",
    "time_sigma": "spread of the effect of a decade (time trend, when fitted)",
    "assurance_sigma": "spread of each promised item's effect, against a torture promise",
    "deterrence_sigma": "spread of the effect of monitoring on compliance (used only with deterrence)",
}

GLOSSARY = (
    ("assurance", "a promise by the receiving state about how a person it receives will be treated "
                  "(no torture, no death penalty, a fair trial, consular access and so on)."),
    ("receiving state", "the state that gives the assurance and receives the person."),
    ("ordinary criminal case", "a person wanted for an ordinary crime (fraud, drugs, murder), with no political, "
                               "security or public-figure element."),
    ("high-profile case", "a political, security or prominent criminal case: one the receiving state has a "
                          "declared interest in, or a public figure."),
    ("honoured", "credible follow-up shows that the specific promise was kept. No news is never 'honoured'."),
    ("breached", "credible evidence shows that the specific promise was broken."),
    ("partly breached", "some parts of the promise were kept and others credibly broken; the model reads it as breached."),
    ("outcome not known", "the person was transferred and nothing credible shows either way what happened."),
    ("not transferred", "the promise was given but the person was never handed over; not used by the model."),
    ("monitoring", "what verification existed after transfer: none, visits by the sending state's diplomats "
                   "(consular visits), or an independent body with access (independent monitor)."),
    ("open court record", "a promise about the death penalty, a fair trial or the charges can be checked from a "
                          "public trial and sentence, without monitoring."),
    ("detection", "the chance that a breach, if it happens, enters the public record."),
    ("prior", "what the model assumes before it sees the record; stated in section 'The model and its assumptions'."),
    ("posterior", "what the model concludes after seeing the record."),
    ("interval", "a central credible interval: given the model and the record, the probability that the true rate "
                 "lies inside it is the stated percentage."),
    ("rests on the prior", "the record barely changes the model's starting assumption for this question, so the "
                           "figure reflects the assumption more than evidence."),
    ("refit", "the model fitted again under an alternative choice, to see how far the answer moves."),
    ("R-hat, effective sample size, divergences", "checks that the sampling algorithm explored the posterior "
                                                   "reliably; the thresholds are given with the diagnostics."),
    ("Political Terror Scale (PTS)", "an annual score of state repression, from one to five, based on Amnesty "
                                      "International, Human Rights Watch and US State Department reports; higher means "
                                      "more abuse."),
    ("kappa", "Cohen's kappa: agreement between two independent codings beyond what chance would give "
              "(one is perfect agreement, zero is what chance alone gives)."),
    ("judgement call", "a coding decision the coder flagged as open to dispute, with the reason."),
)
