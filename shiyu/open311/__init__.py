"""Open311 GeoReport v2 intake under /open311/v2, with api keys per client."""
