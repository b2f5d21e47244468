app_name = "fraud"

urlpatterns: list = []
