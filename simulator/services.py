"""Services: every write to the lab's state goes through a function here.

Convention (HackSoft Django Styleguide): writes live in ``services.py``, reads in
``selectors.py``, functions are named ``<entity>_<action>`` (``run_create``, ``trace_upload``),
take keyword arguments, and hold the business logic. Views, forms, consumers and Celery tasks
stay thin and call them; no business logic in ``save()`` or signals.
"""
