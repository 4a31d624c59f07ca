"""Colours shared by the web map, the legend and static images.

Coverage classes use ColorBrewer's PuOr scheme (colour-blind safe); "no data" is a neutral
grey so it never reads as zero. Product groups use the Okabe-Ito palette.
"""

from __future__ import annotations

STATUS_COLOURS = {
    "none": "#e66101",
    "below": "#fdb863",
    "met": "#5e3c99",
    "no_data": "#d9d9d9",
}
STATUS_ORDER = ("none", "below", "met", "no_data")

GROUP_COLOURS = {
    "Thực phẩm": "#E69F00",
    "Đồ uống": "#56B4E9",
    "Dược liệu và sản phẩm từ dược liệu": "#009E73",
    "Hàng thủ công mỹ nghệ": "#CC79A7",
    "Sinh vật cảnh": "#F0E442",
    "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch": "#0072B2",
}
OTHER_GROUP_COLOUR = "#7f7f7f"

# The progress chart: one colour and one marker shape per series, and text labels on every
# point, so no series is told apart by colour alone. Purple and orange from PuOr, black.
PROGRESS_COLOURS = {
    "communes_met": STATUS_COLOURS["met"],
    "five_star_counted": "#b35806",
    "products_counted": STATUS_COLOURS["met"],
    "published": "#1a1a1a",
    "target": "#1a1a1a",
    "grid": "#dddddd",
    "axis": "#333333",
    "note": "#444444",
}
