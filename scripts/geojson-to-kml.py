#!/usr/bin/env python3
"""Converts a GeoJSON FeatureCollection of (Multi)Polygons to KML 2.2 (Placemark per feature,
<name> from NAME_PROPERTY, every property as ExtendedData/SimpleData, MultiGeometry for
MultiPolygons). Written independently of the Swift KML reader, to make the KML fixture it is
tested on. Usage: scripts/geojson-to-kml.py IN.geojson OUT.kml NAME_PROPERTY"""
import json, sys
from xml.sax.saxutils import escape

src, dst, name_prop = sys.argv[1], sys.argv[2], sys.argv[3]
features = json.load(open(src))["features"]

def ring(coords):
    return "<LinearRing><coordinates>" + " ".join(f"{repr(x)},{repr(y)},0" for x, y in coords) + "</coordinates></LinearRing>"

def polygon(rings):
    out = "<Polygon><outerBoundaryIs>" + ring(rings[0]) + "</outerBoundaryIs>"
    for hole in rings[1:]:
        out += "<innerBoundaryIs>" + ring(hole) + "</innerBoundaryIs>"
    return out + "</Polygon>"

with open(dst, "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>\n')
    f.write(f"<name>{escape(src.split('/')[-1])}</name>\n")
    for feat in features:
        props, geom = feat["properties"], feat["geometry"]
        f.write("<Placemark>\n")
        f.write(f"  <name>{escape(str(props.get(name_prop, '')))}</name>\n")
        f.write('  <ExtendedData><SchemaData schemaUrl="#areas">')
        for k, v in props.items():
            f.write(f'<SimpleData name="{escape(k)}">{escape(str(v))}</SimpleData>')
        f.write("</SchemaData></ExtendedData>\n  ")
        if geom["type"] == "Polygon":
            f.write(polygon(geom["coordinates"]))
        else:
            f.write("<MultiGeometry>" + "".join(polygon(p) for p in geom["coordinates"]) + "</MultiGeometry>")
        f.write("\n</Placemark>\n")
    f.write("</Document>\n</kml>\n")
