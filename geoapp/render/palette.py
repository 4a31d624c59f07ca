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
