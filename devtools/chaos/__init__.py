"""The chaos run (``make chaos``): the service under the faults it must survive, then checked.

``runner`` starts nothing itself: it drives a running service and injects faults;
``checks`` and the workload modules say what must hold afterwards; ``__main__`` starts
private servers and the Procfile's processes, runs the full plan and prints one line.
"""
