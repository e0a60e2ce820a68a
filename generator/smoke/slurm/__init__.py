"""`kb smoke --executor slurm`: the job request (`request.py`), SLURM's view of the jobs (`queue.py`),
the reports of jobs that gave none (`verdict.py`), and the backend of the job loop (`backend.py`)."""
