"""The words of the patterns pages (the hotspot map, the places register, a grid's boundary,
joining a concern, a concern's place and point), in Chinese and English (merged into
api/ui/messages.py's catalogue, which checks both languages hold the same keys)."""

from __future__ import annotations

PATTERN_MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "nav.hotspots": "热点地图",
        "nav.places": "地点登记",
        # the hotspot map (api/ui/pages/hotspot_map.py)
        "map.title": "热点地图",
        "map.intro": (
            "同一地点（或同一网格单元）同一类别 30 天内反映 3 次及以上即为热点；"
            "颜色越深、数字越大，反映越多。"
        ),
        "map.all_grids": "全部网格",
        "map.all_categories": "全部类别",
        "map.show": "查看",
        "map.map": "地图",
        "map.svg_title": "网格边界与热点地图",
        "map.svg_desc": "{grids} 个网格的边界，{n} 个热点；各热点的详情见下表。",
        "map.grid_label": "网格 {grid}",
        "map.spot_label": "{where}：{n} 件民情",
        "map.legend": "图例（方块为网格单元，圆点为登记的地点；数字为民情件数）：",
        "map.legend_step": "{least}–{most} 件",
        "map.legend_top": "{least} 件及以上",
        "map.legend_shapes": "方块：网格单元；圆点：登记地点",
        "map.no_map": "还没有可画的地图：所选网格没有边界，热点也没有位置。",
        "map.unbounded": "以下网格还没有边界：{grids}",
        "map.table": "热点列表",
        "map.where": "地点或网格单元",
        "map.count": "民情件数",
        "map.days": "涉及天数",
        "map.window": "时间段",
        "map.high": "高发",
        "map.high_yes": "高发",
        "map.high_no": "否",
        "map.concerns": "相关民情",
        "map.none": "所选范围内没有热点。",
        "map.proactive": "主动治理：",
        "map.place_unknown": "（未登记的地点）",
        "map.cell": "约 {size} 米见方的网格单元，中心 {lat}, {lng}",
        # the places register and boundaries (api/ui/pages/places.py)
        "places.title": "地点登记",
        "places.list": "已登记的地点",
        "places.edit": "修改",
        "places.edit_named": "修改「{name}」",
        "places.office_yes": "是（社区办公地点）",
        "places.none": "还没有登记地点。",
        "places.add": "登记地点",
        "places.change_title": "修改地点「{name}」",
        "places.back": "返回网格 {grid} 的地点",
        "places.remove_point": "经纬度都留空即删除该地点的坐标。",
        "places.save": "保存修改",
        "place.kind.building": "楼栋",
        "place.kind.courtyard": "院落",
        "place.kind.road": "道路",
        "place.kind.facility": "设施",
        "place.point_help": (
            "可选。手机地图（高德、腾讯）上读出的坐标请选 GCJ-02，会自动换算为 WGS-84。"
        ),
        "f.place_name": "地点名称",
        "f.place_kind": "地点类型",
        "f.point": "坐标",
        "f.point.lat": "纬度",
        "f.point.lng": "经度",
        "f.point.datum": "坐标系",
        "f.office": "社区办公地点（在此反映的不计入热点）",
        "f.location": "位置",
        "f.location.lat": "纬度",
        "f.location.lng": "经度",
        "f.location.datum": "坐标系",
        "f.geojson": "GeoJSON 文本",
        "f.geojson_file": "GeoJSON 文件",
        "datum.wgs84": "WGS-84（GPS）",
        "datum.gcj02": "GCJ-02（高德、腾讯地图）",
        "boundary.title_of": "网格 {grid} 的边界",
        "boundary.svg_title": "网格 {grid} 的边界图",
        "boundary.updated": "最后更新：{when}",
        "boundary.none": "这个网格还没有边界。",
        "boundary.draw": "上传或粘贴边界",
        "boundary.help": (
            "GeoJSON 的 Feature、Polygon 或 MultiPolygon，坐标为 [经度, 纬度]（WGS-84）。"
            "选了文件就以文件为准。"
        ),
        "boundary.save": "保存边界",
        "err.geojson": "「GeoJSON」无法识别：需要 Polygon 或 MultiPolygon，坐标为 [经度, 纬度]。",
        "err.geojson_empty": "请选择 GeoJSON 文件或粘贴 GeoJSON 文本。",
        "err.outside_grid": "「{label}」不在网格 {grid} 的边界内。",
        "err.no_place": "「{label}」不在地点登记中，请重新选择。",
        "err.place_grid": "「{label}」属于网格 {grid}，不是本次走访的网格。",
        "err.range": "「{label}」超出范围（{least} 到 {most}）。",
        "err.cosigner_who": "请填写居民的姓名或电话，或勾选匿名。",
        "err.already_joined": "这位居民已经加入过这条民情。",
        "done.place_added": "地点已登记",
        "done.place_changed": "地点已修改",
        "done.boundary_drawn": "边界已保存",
        "done.joined": "已作为联名居民加入这条民情",
        # the record form: place, point, joining a concern (api/ui/pages/record.py)
        "record.where": "地点与位置",
        "record.place_none": "不选",
        "record.locate": "使用手机当前位置",
        "record.locate_help": "需征得居民同意；只在点击后读取一次位置，也可以手动填写。",
        "record.locating": "正在读取位置……",
        "record.located": "已填入当前位置（精度约 {m} 米）。",
        "record.locate_failed": "无法读取位置，请手动填写或留空。",
        "record.join": "加入这条民情：{reference}",
        "record.join_help": (
            "如果是同一件事，可让这位居民作为联名居民加入已有民情，而不是重复登记；"
            "会使用本节填写的居民姓名、电话和渠道。"
        ),
        # the concern page
        "concern.residents_count": "反映居民人数",
        "concern.cosigners": "联名居民",
        "concern.proactive": "主动治理事项：背后的民情",
        "concern.proactive_help": (
            "这一事项由热点发现自动登记：同一地点、同一类别的民情反复出现。以下是它背后的民情。"
        ),
        "concern.in_hotspot": "所属热点的主动治理事项",
        "concern.proactive_item": "主动治理：{reference}",
        "concern.cosigner": "{who} · {channel} · {when}",
        "concern.cosigner_anonymous": "匿名居民",
        "concern.cosigner_ref": "居民 {ref}",
        "concern.cosigner_from": "（由 {reference} 合并而来）",
        "concern.location": "位置（精确坐标，不公开）",
    },
    "en": {
        "nav.hotspots": "Hotspot map",
        "nav.places": "Places",
        "map.title": "Hotspot map",
        "map.intro": (
            "A hotspot is 3 or more concerns of one category at one place (or one map cell)"
            " within 30 days; the darker the colour and the higher the number, the more"
            " concerns."
        ),
        "map.all_grids": "All grids",
        "map.all_categories": "All categories",
        "map.show": "Show",
        "map.map": "Map",
        "map.svg_title": "Map of the grids' boundaries and the hotspots",
        "map.svg_desc": (
            "The boundaries of {grids} grids and {n} hotspots; the table below lists each."
        ),
        "map.grid_label": "Grid {grid}",
        "map.spot_label": "{where}: {n} concerns",
        "map.legend": (
            "Legend (squares are map cells, circles registered places; the number is how"
            " many concerns):"
        ),
        "map.legend_step": "{least}–{most} concerns",
        "map.legend_top": "{least} concerns or more",
        "map.legend_shapes": "Square: a map cell; circle: a registered place",
        "map.no_map": (
            "No map to draw yet: the grids chosen have no boundary and the hotspots no location."
        ),
        "map.unbounded": "These grids have no boundary yet: {grids}",
        "map.table": "Hotspots",
        "map.where": "Place or map cell",
        "map.count": "Concerns",
        "map.days": "Days",
        "map.window": "Period",
        "map.high": "High incidence",
        "map.high_yes": "High incidence",
        "map.high_no": "No",
        "map.concerns": "Concerns behind it",
        "map.none": "No hotspots in what was chosen.",
        "map.proactive": "Proactive concern: ",
        "map.place_unknown": "(a place not in the register)",
        "map.cell": "a map cell of about {size} m, centred at {lat}, {lng}",
        "places.title": "Places",
        "places.list": "Places in the register",
        "places.edit": "Change",
        "places.edit_named": "Change “{name}”",
        "places.office_yes": "Yes (the office's address)",
        "places.none": "No places registered yet.",
        "places.add": "Register a place",
        "places.change_title": "Change the place “{name}”",
        "places.back": "Back to the places of grid {grid}",
        "places.remove_point": "Leave both latitude and longitude blank to remove the point.",
        "places.save": "Save the changes",
        "place.kind.building": "Building",
        "place.kind.courtyard": "Courtyard",
        "place.kind.road": "Road",
        "place.kind.facility": "Facility",
        "place.point_help": (
            "Optional. For a point read off a Chinese phone map (AMap, Tencent) choose"
            " GCJ-02: it is converted to WGS-84."
        ),
        "f.place_name": "Name of the place",
        "f.place_kind": "Kind of place",
        "f.point": "Point",
        "f.point.lat": "Latitude",
        "f.point.lng": "Longitude",
        "f.point.datum": "Datum",
        "f.office": "The office's own address (concerns filed there make no hotspot)",
        "f.location": "Location",
        "f.location.lat": "Latitude",
        "f.location.lng": "Longitude",
        "f.location.datum": "Datum",
        "f.geojson": "GeoJSON text",
        "f.geojson_file": "GeoJSON file",
        "datum.wgs84": "WGS-84 (GPS)",
        "datum.gcj02": "GCJ-02 (AMap, Tencent maps)",
        "boundary.title_of": "Boundary of grid {grid}",
        "boundary.svg_title": "Map of the boundary of grid {grid}",
        "boundary.updated": "Last changed: {when}",
        "boundary.none": "This grid has no boundary yet.",
        "boundary.draw": "Upload or paste the boundary",
        "boundary.help": (
            "A GeoJSON Feature, Polygon or MultiPolygon with [longitude, latitude] positions"
            " (WGS-84). A file chosen wins over the text."
        ),
        "boundary.save": "Save the boundary",
        "err.geojson": (
            "“GeoJSON” cannot be read: it needs a Polygon or MultiPolygon of [longitude,"
            " latitude] positions."
        ),
        "err.geojson_empty": "Choose a GeoJSON file or paste the GeoJSON text.",
        "err.outside_grid": "“{label}” is outside the boundary of grid {grid}.",
        "err.no_place": "“{label}” is not in the places register; choose again.",
        "err.place_grid": "“{label}” is in grid {grid}, not the grid of this visit.",
        "err.range": "“{label}” is out of range ({least} to {most}).",
        "err.cosigner_who": "Give the resident's name or phone, or tick anonymous.",
        "err.already_joined": "This resident has already joined this concern.",
        "done.place_added": "Place registered",
        "done.place_changed": "Place changed",
        "done.boundary_drawn": "Boundary saved",
        "done.joined": "The resident joined this concern as a co-signer",
        "record.where": "Place and location",
        "record.place_none": "None",
        "record.locate": "Use the phone's location",
        "record.locate_help": (
            "Ask the resident first; the location is read once, when pressed. You may also type it."
        ),
        "record.locating": "Reading the location…",
        "record.located": "The current location is filled in (to about {m} m).",
        "record.locate_failed": "The location could not be read: type it or leave it blank.",
        "record.join": "Join this concern: {reference}",
        "record.join_help": (
            "If it is the same matter, the resident joins the concern already recorded as a"
            " co-signer instead of recording it again, with the name, phone and channel of"
            " this section."
        ),
        "concern.residents_count": "Residents who raised it",
        "concern.cosigners": "Co-signers",
        "concern.proactive": "Proactive item: the concerns behind it",
        "concern.proactive_help": (
            "Recorded when a hotspot was found: concerns of one category kept coming back at one"
            " place. These are the concerns behind it."
        ),
        "concern.in_hotspot": "Proactive items of its hotspots",
        "concern.proactive_item": "Proactive item: {reference}",
        "concern.cosigner": "{who} · {channel} · {when}",
        "concern.cosigner_anonymous": "An anonymous resident",
        "concern.cosigner_ref": "Resident {ref}",
        "concern.cosigner_from": "(moved from {reference} when merged)",
        "concern.location": "Location (exact; never public)",
    },
}
