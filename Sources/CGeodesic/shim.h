// Karney's geodesic routines, shipped inside PROJ (the same ones PostGIS's geography ST_Area uses).
#include <geodesic.h>
