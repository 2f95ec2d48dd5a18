"""Analysis of results: statistics with intervals, the typed run summary, sensitivity,
sweep designs, scenario discovery, comparison of scenarios and the backtest."""
