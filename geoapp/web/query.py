"""The coverage query of a request, parsed once for every blueprint: edition, coverage filters
(checked against the data's districts and product groups) and the parameters they make."""

from __future__ import annotations

from collections.abc import Mapping

from flask import request

from geoapp.domain.coverage import CoverageParams
from geoapp.web.params import CoverageQuery, parse_coverage_query
from geoapp.web.state import app_state


def coverage_query(args: Mapping[str, str] | None = None) -> CoverageQuery:
    """The coverage query of ``args`` (default: the request's query string)."""
    state = app_state()
    return parse_coverage_query(
        request.args if args is None else args,
        state.settings.default_edition,
        state.planner.choices(),
    )


def coverage_request(args: Mapping[str, str] | None = None) -> tuple[str, CoverageParams]:
    """The edition and coverage parameters of ``args`` (default: the request's)."""
    query = coverage_query(args)
    return query.edition, app_state().coverage.default_params(**query.overrides)
