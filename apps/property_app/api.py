"""Methods the desk and API clients call: /api/method/property_app.api.<name>."""
import lowcode


@lowcode.whitelist(methods=["GET"])
def interested_leads(property):
    """The leads interested in a property that the caller may read (row rules apply)."""
    lowcode.get_doc("Property", property).check_permission("read")
    return lowcode.get_list("Lead", filters={"interested_property": property},
                            fields=["name", "first_name", "status"], order_by="name asc")
