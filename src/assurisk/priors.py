"""Priors: the documented defaults, an overridable object, and helpers that turn an expert's words into priors.

Compliance parameters are on the log-odds scale of "assurance honoured". Detection probabilities
(how likely a breach is to enter the record) get Beta priors per verification level and case type:
they are not identified by the record alone, so these priors carry real weight and are reported
wherever results are shown. See ``docs/model.md`` for what each default implies.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from .errors import InputError

VERIFICATION_LEVELS = ("none", "consular", "independent", "public_record")
CASE_TYPES = ("ordinary", "high_profile")

# Beta(a, b) priors per verification level and case type (ordinary, high-profile). Neither family is
# identified by the record alone; the three-outcome likelihood bounds them (a reported breach rate
# cannot exceed detection; a verified-kept rate cannot exceed verification). Every a, b >= 1, so no
# prior has infinite density at 0 or 1 (that made refits diverge).
# Detection: P(a breach is reported | breach). An unmonitored breach of an ordinary prisoner rarely
# surfaces; a prominent detainee is followed by NGOs and press; visits and monitors see more; a
# sentence or trial is public.
DEFAULT_DETECTION = {
    ("none", "ordinary"): (1.0, 4.0), ("none", "high_profile"): (2.0, 2.0),
    ("consular", "ordinary"): (2.0, 2.0), ("consular", "high_profile"): (3.0, 2.0),
    ("independent", "ordinary"): (3.5, 1.5), ("independent", "high_profile"): (4.5, 1.5),
    ("public_record", "ordinary"): (6.8, 1.2), ("public_record", "high_profile"): (9.0, 1.0),
}
# Verification: P(a kept promise is positively shown to be kept | kept): the codebook's `honored`.
DEFAULT_VERIFICATION = {
    ("none", "ordinary"): (1.0, 6.0), ("none", "high_profile"): (1.0, 3.0),
    ("consular", "ordinary"): (2.0, 2.0), ("consular", "high_profile"): (2.0, 2.0),
    ("independent", "ordinary"): (3.0, 2.0), ("independent", "high_profile"): (3.5, 1.5),
    ("public_record", "ordinary"): (4.8, 1.2), ("public_record", "high_profile"): (6.8, 1.2),
}
DEFAULT_DETECTION_MEANS = {k: a / (a + b) for k, (a, b) in DEFAULT_DETECTION.items()}


def _keyed(table: dict) -> dict[str, tuple[float, float]]:
    return {f"{lv}/{ct}": (float(a), float(b)) for (lv, ct), (a, b) in table.items()}


def _default_detection() -> dict[str, tuple[float, float]]:
    return _keyed(DEFAULT_DETECTION)


def _default_verification() -> dict[str, tuple[float, float]]:
    return _keyed(DEFAULT_VERIFICATION)


@dataclass(frozen=True)
class Priors:
    """Normal means/sds, half-normal scales, Beta detection/verification priors, optional state beliefs.

    The intercept is the log-odds that one promised item is kept for a case that occurs: an ordinary
    case, a torture promise, a state with the record's average effect, at the record's mean covariate.
    Case-type and item effects get comparable weakly-informative scales, so neither decides the
    ordinary-versus-high-profile answer by itself.
    """

    intercept_mu: float = 0.0  # logit P(torture promise kept), ordinary case, average state
    intercept_sigma: float = 1.0  # with the state spread, P(kept) is spread over (0.1, 0.9) without piling at 0 or 1
    sigma_state: float = 0.75  # half-normal scale of between-state spread
    high_profile_mu: float = 0.0  # no prior lean on whether high-profile cases fare better or worse
    high_profile_sigma: float = 1.0  # case-type effect on every item
    high_profile_treatment_sigma: float = 1.0  # extra case-type effect on items no court record shows
    sigma_state_high_profile: float = 0.5  # half-normal scale of state-specific case-type differences
    covariate_mu: float = 0.0  # effect of one world-wide SD of the covariate; no prior lean on its sign
    covariate_sigma: float = 0.5
    time_sigma: float = 0.5  # effect of a decade (only with time_effect=True); no prior lean on its sign
    assurance_sigma: float = 1.5  # sd of each item's effect relative to the torture promise
    deterrence_sigma: float = 0.5  # sd of the effect of monitoring on compliance (only with deterrence=True)
    # "level/case_type" -> (a, b) of a Beta prior on P(breach reported | breach)
    detection: dict = field(default_factory=_default_detection)
    # "level/case_type" -> (a, b) of a Beta prior on P(kept promise verified as kept | kept)
    verification: dict = field(default_factory=_default_verification)
    # ISO3 -> (mu, sigma): an expert's belief about logit P(honoured), ordinary case, torture promise
    state_beliefs: dict = field(default_factory=dict)
    # the statements behind any elicited setting, kept so every result can show them
    elicitation: tuple = ()

    def __post_init__(self):
        for f in fields(self):
            if f.name in ("detection", "verification", "state_beliefs", "elicitation"):
                continue
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise InputError(f"Priors.{f.name} must be a finite number, got {v!r}")
            if (f.name.startswith("sigma") or f.name.endswith("sigma")) and v <= 0:
                raise InputError(f"Priors.{f.name} is a scale and must be > 0, got {v!r}")
        want = {f"{lv}/{ct}" for lv in VERIFICATION_LEVELS for ct in CASE_TYPES}
        for name in ("detection", "verification"):
            table = getattr(self, name)
            if not isinstance(table, dict) or set(table) != want:
                raise InputError(f"Priors.{name} needs exactly the keys {sorted(want)}; got {sorted(table)}")
            for k, ab in table.items():
                if len(ab) != 2 or not all(isinstance(x, (int, float)) and math.isfinite(x) and x > 0 for x in ab):
                    raise InputError(f"Priors.{name}[{k!r}] must be two positive numbers (Beta a, b), got {ab!r}")
        from .codes import iso3166_alpha3

        for s, ms in self.state_beliefs.items():
            if s not in iso3166_alpha3():
                raise InputError(f"Priors.state_beliefs: {s!r} is not an ISO 3166-1 alpha-3 code")
            if len(ms) != 2 or not math.isfinite(ms[0]) or not ms[1] > 0:
                raise InputError(f"Priors.state_beliefs[{s!r}] must be (mu, sigma > 0) on the log-odds scale, got {ms!r}")

    def beta_table(self, name: str):
        """(levels x case types x 2) array of the Beta parameters of ``detection`` or ``verification``."""
        import numpy as np

        table = getattr(self, name)
        return np.array([[table[f"{lv}/{ct}"] for ct in CASE_TYPES] for lv in VERIFICATION_LEVELS], dtype=float)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["detection"] = {k: [float(a), float(b)] for k, (a, b) in sorted(self.detection.items())}
        d["verification"] = {k: [float(a), float(b)] for k, (a, b) in sorted(self.verification.items())}
        d["state_beliefs"] = {k: [float(m), float(s)] for k, (m, s) in sorted(self.state_beliefs.items())}
        d["elicitation"] = [dict(e) for e in self.elicitation]
        return {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Priors":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(f"unknown prior setting(s) {sorted(unknown)}; known: {[f.name for f in fields(cls)]}")
        d = dict(d)
        for name in ("detection", "verification"):
            if name in d:
                d[name] = {k: tuple(v) for k, v in d[name].items()}
        if "state_beliefs" in d:
            d["state_beliefs"] = {k: tuple(v) for k, v in d["state_beliefs"].items()}
        if "elicitation" in d:
            d["elicitation"] = tuple(dict(e) for e in d["elicitation"])
        return cls(**d)

    def detection_mean(self, level: str, case_type: str) -> float:
        a, b = self.detection[f"{level}/{case_type}"]
        return a / (a + b)

    def verification_mean(self, level: str, case_type: str) -> float:
        a, b = self.verification[f"{level}/{case_type}"]
        return a / (a + b)

    # --- expert statements -> priors ----------------------------------------------------------
    def with_honoured_rate(self, center: float, lower: float, upper: float, mass: float = 0.9, *,
                           state: str | None = None) -> "Priors":
        """Belief about P(honoured) for an ordinary case (of ``state``, or of an average state).

        "I would put it near ``center`` and am ``mass`` sure it lies between ``lower`` and ``upper``."
        """
        mu, sigma = logit_normal_from_statement(center, lower, upper, mass)
        record = {"about": f"P(honoured), ordinary case, {state or 'average state'}", "center": center,
                  "lower": lower, "upper": upper, "mass": mass, "result": f"logit-normal mu={mu:.3f} sigma={sigma:.3f}"}
        if state is None:
            return replace(self, intercept_mu=mu, intercept_sigma=sigma, elicitation=self.elicitation + (record,))
        beliefs = dict(self.state_beliefs)
        beliefs[state.upper()] = (mu, sigma)
        return replace(self, state_beliefs=beliefs, elicitation=self.elicitation + (record,))

    def with_detection(self, level: str, mean: float, lower: float, upper: float, mass: float = 0.9, *,
                       case_type: str | None = None) -> "Priors":
        """Belief about how often a breach is reported under ``level`` ("perhaps one time in four")."""
        if level not in VERIFICATION_LEVELS:
            raise InputError(f"level must be one of {VERIFICATION_LEVELS}, got {level!r}")
        a, b = beta_from_statement(mean, lower, upper, mass)
        det = dict(self.detection)
        for ct in ([case_type] if case_type else CASE_TYPES):
            if ct not in CASE_TYPES:
                raise InputError(f"case_type must be one of {CASE_TYPES}, got {ct!r}")
            det[f"{level}/{ct}"] = (a, b)
        record = {"about": f"P(breach reported), {level}, {case_type or 'all case types'}", "center": mean,
                  "lower": lower, "upper": upper, "mass": mass, "result": f"Beta a={a:.3f} b={b:.3f}"}
        return replace(self, detection=det, elicitation=self.elicitation + (record,))


def _check_statement(center: float, lower: float, upper: float, mass: float) -> None:
    if not 0 < lower < center < upper < 1:
        raise InputError(f"need 0 < lower < center < upper < 1, got lower={lower}, center={center}, upper={upper}")
    if not 0 < mass < 1:
        raise InputError(f"mass must be strictly between 0 and 1, got {mass}")


def logit_normal_from_statement(center: float, lower: float, upper: float, mass: float = 0.9) -> tuple[float, float]:
    """Normal(mu, sigma) on the log-odds scale with median ``center`` and P(lower < p < upper) = ``mass``."""
    from scipy import optimize, stats
    from scipy.special import logit

    _check_statement(center, lower, upper, mass)
    mu, lo, hi = float(logit(center)), float(logit(lower)), float(logit(upper))

    def gap(sigma):
        return stats.norm.cdf(hi, mu, sigma) - stats.norm.cdf(lo, mu, sigma) - mass

    return mu, float(optimize.brentq(gap, 1e-4, 50.0))


def beta_from_statement(mean: float, lower: float, upper: float, mass: float = 0.9) -> tuple[float, float]:
    """Beta(a, b) with the stated mean and P(lower < d < upper) = ``mass`` (matching by root-finding)."""
    from scipy import optimize, stats

    _check_statement(mean, lower, upper, mass)

    def gap(log_k):
        k = math.exp(log_k)
        return stats.beta.cdf(upper, mean * k, (1 - mean) * k) - stats.beta.cdf(lower, mean * k, (1 - mean) * k) - mass

    lo, hi = math.log(0.05), math.log(1e5)
    if gap(lo) > 0:
        raise InputError(f"even the most spread-out Beta with mean {mean} puts more than {mass} of its mass in "
                         f"[{lower}, {upper}]; narrow the interval or raise the mass")
    if gap(hi) < 0:
        raise InputError("that interval is too narrow to reach the stated mass; widen it or lower the mass")
    k = math.exp(optimize.brentq(gap, lo, hi))
    return mean * k, (1 - mean) * k
