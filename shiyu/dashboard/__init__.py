"""The command centre's figures (指挥中心): today's counts, trends, breakdowns, load per child
unit and a change stream, all scoped to one readable jurisdiction unit."""
