"""A sampler for ordinal human ratings: find where a person's ideal output lies, in few ratings.

Model. A person has an ideal output in mind; a rating is a noisy, monotone function of how far
an output is from it, cut into the widget's levels (Good / So-so / Bad, or the steps of a
slider). The distance is the output model's own measure of how different two outputs look
when it has one (CIEDE2000 for :class:`hitl.generators.perceptual.PerceptualColorGenerator`);
otherwise the distance between the parameters, best on a perceptual scale (DIN99o there).

The sampler keeps a fixed set of candidate ideals spread uniformly over the space (over the
part an output model shows as itself, e.g. the displayable colours) and weighs each by the
likelihood of every rating so far under an ordered-logit model. The level cutoffs are not
given: the span (the distance from which every rating is the worst) and the width of the best
level are averaged over a grid together with the noise, so they are learned from the ratings.

Each proposal maximizes ``P(hit) + information * bits``: the posterior mass of the ideal
within ``radius`` of the point (the chance it is rated best), plus the expected information a
rating of it gives (Monte Carlo over posterior draws). Trials still awaiting a rating count as
misses for the first term and as their likeliest rating for the second, so a batch spreads out.
A point whose output equals one already rated or waiting is never proposed.

It reads only what the study stores: the trials' parameters and values, and the rating widget
registered with the study (which value is best, how many levels there are). Log-likelihoods
are cached per trial, so an ask costs about the same at 10 or 1000 trials.
"""

from hitl.samplers._outputs import OutputModel
from hitl.samplers._localizer._sampler import LocalizationSampler


__all__ = ["LocalizationSampler", "OutputModel"]
