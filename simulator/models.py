# Models of the lab (runs, run configurations, windowed metrics, traces) come with the dashboard.
# Writes go through services.py, reads through selectors.py.
