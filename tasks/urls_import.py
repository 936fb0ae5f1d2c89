app_name = "plan_import"
urlpatterns: list = []
