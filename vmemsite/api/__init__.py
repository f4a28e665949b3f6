"""The JSON API's plumbing, shared by the apps' routers: authentication (``auth``), the error
schema (``schemas``) and the Django Ninja site with its error handling and URLs (``site``)."""
