"""Jurisdictions: the administrative tree (市—区县—街道乡镇—社区村—网格) and below grids."""
