"""Unit metrics (考核指标): per department and per jurisdiction unit, for any period."""
