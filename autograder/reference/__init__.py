"""Reference solutions, used by the grader outside the student's kernel. Instructor material."""
