"""What reps see: meetings booked, callbacks scheduled, time phrases read in the lead's zone."""
