"""Sentences about the figures, in the request's language, shared by every view that shows
them (map header, embed, PNG, PDF), so one figure is worded the same way everywhere."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _


def percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f}%"


def reason_labels() -> dict[str, str]:
    """Why a product is not counted, per reason code of ``product_eligibility``."""
    return {
        "no_rating": _("no confirmed star rating"),
        "below_min_stars": _("rated below the minimum stars"),
        "other_group": _("other product group"),
        "other_producer_type": _("other producer type"),
        "before_programme": _("before the programme started (2018)"),
        "not_yet_recognised": _("recognised after the as-of date"),
        "expired": _("certificate expired"),
        "district_only": _("known only by district (no commune after 2025-07-01)"),
        "outside_edition": _("not in a commune of this edition"),
        "unplaced": _("no commune or district recorded"),
    }


def completeness_text(summary: dict[str, Any]) -> str:
    """ "177 products named of 493 published (2025-04): 36%", or what is known without a
    published total."""
    recorded = summary["products_recorded"]
    total = summary.get("published_total")
    if total:
        return _(
            "%(rec)s products named of %(total)s published (%(date)s, %(src)s): %(p)s",
            rec=recorded,
            total=total,
            date=summary.get("published_total_as_of") or "",
            src=summary.get("published_total_sources") or "",
            p=percent(summary.get("completeness_share")),
        )
    return _("%(rec)s products named; no published total for this area", rec=recorded)


def exclusions_text(summary: dict[str, Any]) -> str:
    """The products left out, per reason ("not counted: 69 certificate expired, ...")."""
    labels = reason_labels()
    parts = [
        f"{count} {labels[reason]}"
        for reason, count in summary.get("products_excluded", {}).items()
        if count
    ]
    if not parts:
        return ""
    return _("Not counted: %(parts)s.", parts="; ".join(parts))


def counted_text(summary: dict[str, Any]) -> str:
    """How the counted products add up: in communes plus known only by district."""
    return _(
        "%(n)s products counted: %(c)s in communes, %(d)s known only by district "
        "(they count for the district, not a commune); %(u)s of them have no recognition "
        "date (counted from 2018, expiry not checkable).",
        n=summary["products_counted"],
        c=summary["products_in_communes_sum"],
        d=summary["products_district_only"],
        u=summary["products_undated_counted"],
    )


def reason_sentence(product: dict[str, Any], params: Any) -> str | None:
    """Why one product of a commune's detail is not counted, with its date or stars."""
    code = product.get("reason_code")
    if not code or code == "counted":
        return None
    if code == "expired":
        return _("certificate expired on %(d)s", d=product.get("certificate_expiry") or "")
    if code == "not_yet_recognised":
        return _("recognised after %(d)s", d=params.as_of.isoformat())
    if code == "below_min_stars":
        return _("rated %(s)s★, below %(m)s★", s=product.get("stars"), m=params.min_stars)
    return reason_labels()[code]
