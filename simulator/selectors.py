"""Selectors: every read of the lab's state goes through a function here.

Convention (HackSoft Django Styleguide): reads live in ``selectors.py``, writes in
``services.py``; functions are named ``<entity>_<action>`` (``run_list``, ``run_get``) and
return querysets or plain data. Views and consumers call them instead of querying models.
"""
