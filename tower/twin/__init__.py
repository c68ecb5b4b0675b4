"""The digital twin (issue 14): the live network as arrays, disruptions and responses, Monte Carlo
runs over them, the decision table the playbooks use, and the backtest against the sandbox."""
