"""ASGI entry point (uvicorn lowcode.web.asgi:application)."""
import lowcode

lowcode.setup_django()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
