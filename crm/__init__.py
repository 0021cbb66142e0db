"""What reps see: the meetings the agent books, and their calendar feed."""
