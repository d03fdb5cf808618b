"""Programme outcomes (the top floor): is the programme using its GPUs? The outcome figures per month
and cumulative, the three-month forecast, and the what-if simulator that replays a programme year
with the portal's own services on a throw-away database."""
