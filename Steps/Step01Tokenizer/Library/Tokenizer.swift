// Placeholder until the step is written.
