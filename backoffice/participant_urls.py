from django.urls import path

from . import participants

app_name = "participants"

urlpatterns = [
    path("", participants.participant_list, name="list"),
    path("<int:pk>/", participants.participant_detail, name="detail"),
    path("<int:pk>/block/", participants.participant_block, name="block"),
    path("<int:pk>/unblock/", participants.participant_unblock, name="unblock"),
    path("<int:pk>/erase/", participants.participant_erase, name="erase"),
]
