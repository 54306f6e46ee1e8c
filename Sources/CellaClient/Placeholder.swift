// Placeholder: filled in issue 9.
