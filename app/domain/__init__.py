"""What happens to a job beyond one SQL statement, shared by the web and the workers: stopping
it, its completion webhook, its status body, and the view of the whole service."""
