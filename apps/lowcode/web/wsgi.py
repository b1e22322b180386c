"""WSGI entry point, for servers that speak WSGI."""
import lowcode

lowcode.setup_django()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
