# %% [markdown]
# # assurisk in a notebook
#
# A jupytext "percent" notebook (open it with Jupyter + jupytext, or run it as a script; the tests run
# it). It uses only the bundled fit, so it takes seconds: scores as a DataFrame, draws as labelled
# xarray arrays for ArviZ, a contrast with its prior, three figures, and PSIS-LOO on the fit itself.

# %%
import os
from pathlib import Path

import arviz_stats as azs
import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))

import assurisk
import assurisk.plots

out = Path(os.environ.get("ASSURISK_EXAMPLE_OUT", "."))
fit = assurisk.default_fit()
print(fit)

# %% [markdown]
# ## Scores: the prior beside every number

# %%
questions = [{"receiving_state": "China", "case_type": ct, "assurance_types": a}
             for ct in ("ordinary", "high_profile") for a in ("torture", "death_penalty")]
scores = assurisk.score(questions)
print(scores[["receiving_state_code", "case_type", "assurance_types", "p_honored", "p_honored_lower",
              "p_honored_upper", "p_honored_prior", "prior_contraction", "n_direct", "n_direct_state",
              "prior_dominated"]].round(2).to_string())

# %% [markdown]
# ## Draws as labelled arrays (chain, draw, case), for ArviZ

# %%
draws = fit.probability_draws(questions)
print(dict(draws.sizes), list(draws.coords["case"].values))
print(azs.eti(draws, prob=0.9).round(2).values)

# %% [markdown]
# ## Ordinary minus high-profile, with the prior's answer beside it

# %%
first = [dict(q, case_type="ordinary") for q in questions[:2]]
second = [dict(q, case_type="high_profile") for q in questions[:2]]
print(fit.contrast(first, second).round(2).to_string())

# %% [markdown]
# ## Figures (each function returns a matplotlib Figure)

# %%
for name, fig in (("forest", assurisk.plots.forest(fit, "ordinary")),
                  ("cell", assurisk.plots.cell(fit, questions[0])),
                  ("contrast", assurisk.plots.contrast(fit, questions[0], questions[2]))):
    fig.savefig(out / f"notebook_{name}.png", dpi=80)
    print("figure", name, "->", out / f"notebook_{name}.png")

# %% [markdown]
# ## The fit is ArviZ-complete: per-case log-likelihood, prior and predictive groups

# %%
print(list(fit.idata.children))
loo = azs.loo(fit.idata)
print(f"PSIS-LOO over {fit.idata['log_likelihood'].sizes['case']} cases: elpd {loo.elpd:.1f} (SE {loo.se:.1f})")
