"""Pure domain logic: geopandas/shapely only; no Flask, no folium, no file or network I/O."""
