"""Near-duplicate fixtures of our own (fictional stories, not real articles): the pairs that
must be found as the same text and those that must not (tests/test_related.py, the mirror's
shared story in tests/mirror/, and the threshold measured in docs/formats.md)."""

from __future__ import annotations

#: A wire story as one site (DW) runs it: title, lead, body.
WIRE = {
    "title": "台风“海燕七号”登陆东港市 十万人紧急撤离",
    "lead": "强台风“海燕七号”周二凌晨在东港市南部沿海登陆，当地政府已紧急转移约十万名居民。",
    "body_markdown": (
        "强台风“海燕七号”周二凌晨在东港市南部沿海登陆，登陆时中心附近最大风力达到十五级。当地防汛指挥部"
        "表示，截至周二中午，全市已紧急转移安置约十万名居民，另有三千多艘渔船回港避风。\n\n"
        "气象部门说，台风登陆后继续向西北方向移动，强度逐渐减弱，但未来四十八小时内东港、西湾和北岭三地"
        "仍将出现大暴雨，局部地区累计雨量可能超过四百毫米。气象台已将暴雨预警提升至最高的红色级别。\n\n"
        "东港市交通部门宣布，市内所有中小学和幼儿园周二、周三停课，机场取消了两百余个进出港航班，连接"
        "东港与西湾的跨海大桥也已临时封闭。铁路部门停运了途经沿海地区的四十多趟列车。\n\n"
        "据当地电力公司介绍，台风造成全市约二十三万户停电，抢修人员正在逐片恢复供电，预计周四前大部分"
        "地区可以恢复。目前尚无人员死亡的报告，但有十二人在转移途中受轻伤，已送医治疗。\n\n"
        "东港市市长李文华在记者会上呼吁居民留在室内，不要前往海边观浪，并表示政府将在台风过后尽快评估"
        "农业和渔业的损失。专家指出，这是近十年来登陆东港的最强台风。"
    ),
}

#: The same wire text as the other site (the Epoch Times) runs it: its own headline, the
#: lead lightly edited, a dateline and a picture added (Jaccard 0.86 against WIRE).
REWRITE = {
    "title": "强台风海燕七号袭击东港 逾十万居民撤离",
    "lead": "强台风“海燕七号”7日凌晨在东港市南部沿海登陆，当地政府紧急转移约十万名居民。",
    "body_markdown": (
        "【大纪元2026年12月8日讯】" + WIRE["body_markdown"].replace(
            "\n\n气象部门说", "\n\n![台风过后的东港街头](https://i.epochtimes.example/2026/12/typhoon.jpg)\n"
            "*台风过后的东港街头 · 示意图*\n\n气象部门说")
    ),
}

#: The wire text retold further: REWRITE, and a sentence cut and two phrases reworded
#: (Jaccard 0.76 against WIRE).
RETOLD = {
    "title": "强台风海燕七号袭击东港 逾十万居民撤离",
    "lead": "强台风“海燕七号”7日凌晨在东港市南部沿海登陆，当地政府紧急转移约十万名居民。",
    "body_markdown": (
        "【大纪元2026年12月8日讯】强台风“海燕七号”周二凌晨在东港市南部沿海登陆，登陆时中心附近最大风力"
        "达到十五级。当地防汛指挥部表示，截至周二中午，全市已紧急转移安置约十万名居民，另有三千多艘"
        "渔船回港避风。\n\n"
        "![台风过后的东港街头](https://i.epochtimes.example/2026/12/typhoon.jpg)\n"
        "*台风过后的东港街头 · 示意图*\n\n"
        "气象部门说，台风登陆后继续向西北方向移动，强度逐渐减弱，但未来四十八小时内东港、西湾和北岭三地"
        "仍将出现大暴雨，局部地区累计雨量可能超过四百毫米。气象台已将暴雨预警提升至最高的红色级别。\n\n"
        "东港市交通部门宣布，市内所有中小学和幼儿园周二、周三停课，机场取消了两百多个进出港航班，连接"
        "东港与西湾的跨海大桥也已临时封闭。\n\n"
        "当地电力公司表示，台风造成全市约二十三万户停电，抢修人员正在逐片恢复供电，预计周四前大部分"
        "地区可以恢复。目前尚无人员死亡的报告，但有十二人在转移途中受轻伤，已送医治疗。\n\n"
        "东港市市长李文华在记者会上呼吁居民留在室内，不要前往海边观浪，并表示政府将在台风过后尽快评估"
        "农业和渔业的损失。专家指出，这是近十年来登陆东港的最强台风。"
    ),
}

#: The wire story in traditional script (a /b5/ edition): Taiwan variants (颱風, 臺), corner
#: quotes, the same text otherwise.
TWIN = {
    "title": "颱風「海燕七號」登陸東港市 十萬人緊急撤離",
    "lead": "強颱風「海燕七號」週二凌晨在東港市南部沿海登陸，當地政府已緊急轉移約十萬名居民。",
    "body_markdown": (
        "強颱風「海燕七號」週二凌晨在東港市南部沿海登陸，登陸時中心附近最大風力達到十五級。當地防汛指揮部"
        "表示，截至週二中午，全市已緊急轉移安置約十萬名居民，另有三千多艘漁船回港避風。\n\n"
        "氣象部門說，颱風登陸後繼續向西北方向移動，強度逐漸減弱，但未來四十八小時內東港、西灣和北嶺三地"
        "仍將出現大暴雨，局部地區累計雨量可能超過四百毫米。氣象臺已將暴雨預警提升至最高的紅色級別。\n\n"
        "東港市交通部門宣佈，市內所有中小學和幼兒園週二、週三停課，機場取消了兩百餘個進出港航班，連接"
        "東港與西灣的跨海大橋也已臨時封閉。鐵路部門停運了途經沿海地區的四十多趟列車。\n\n"
        "據當地電力公司介紹，颱風造成全市約二十三萬戶停電，搶修人員正在逐片恢復供電，預計週四前大部分"
        "地區可以恢復。目前尚無人員死亡的報告，但有十二人在轉移途中受輕傷，已送醫治療。\n\n"
        "東港市市長李文華在記者會上呼籲居民留在室內，不要前往海邊觀浪，並表示政府將在臺風過後儘快評估"
        "農業和漁業的損失。專家指出，這是近十年來登陸東港的最強颱風。"
    ),
}

#: Another story on the same topic, with the same names and places: not the same text.
AFTERMATH = {
    "title": "“海燕七号”过后 东港渔民清点损失",
    "lead": "台风“海燕七号”离开东港市两天后，沿海渔村的居民开始返回家园，清理被海水淹没的房屋。",
    "body_markdown": (
        "在东港市南部的石湾渔村，五十多岁的渔民陈国强站在倒塌的渔具仓库前说，他家的两艘渔船都被巨浪"
        "打坏，修好至少要花三个月。村里有将近一半的房屋进水，泥沙堆满了街道。\n\n"
        "东港市渔业部门初步统计，台风共损毁渔船六百多艘，冲毁养殖网箱一万余个，直接经济损失估计超过"
        "八亿元。市政府已拨出第一批救灾资金，用于补贴受灾渔民和修复港口设施。\n\n"
        "市长李文华周四到石湾村察看灾情时表示，政府将为受灾家庭提供临时住所，并减免今年的渔业税费。"
        "不少村民则担心，今年冬季的捕捞季已经无法正常开始，全家的收入将大受影响。\n\n"
        "志愿者从西湾和北岭赶来，帮助村民清理淤泥、分发饮用水和食品。当地学校预计下周一复课。"
    ),
}

#: A follow-up that quotes two of the wire story's five paragraphs as background: another
#: story (Jaccard 0.21 against WIRE), the closest "not the same text" of the fixtures.
FOLLOW_UP = dict(AFTERMATH, body_markdown=AFTERMATH["body_markdown"] + "\n\n"
                 + "\n\n".join(WIRE["body_markdown"].split("\n\n")[-2:]))

#: A third story on the topic: another typhoon, another city, the same weather phrases.
OTHER_STORM = {
    "title": "台风“山竹九号”逼近南屿 当局发布红色预警",
    "lead": "台风“山竹九号”预计周五傍晚在南屿岛登陆，气象台发布今年首个台风红色预警。",
    "body_markdown": (
        "南屿岛气象台周四晚间说，台风“山竹九号”目前位于岛屿东南方约三百公里的海面上，正以每小时二十"
        "公里的速度向西北移动，登陆时中心附近最大风力可能达到十四级。\n\n"
        "南屿岛政府宣布，全岛学校周五停课，渡轮和航班全部停航，游客被要求在周五中午前离岛或留在酒店内。"
        "超市里瓶装水和方便面被抢购一空，不少居民用胶带加固门窗。\n\n"
        "岛上的防汛部门已在低洼地区设立二十个临时避难所，可容纳约五万人。官员提醒居民，台风带来的风暴潮"
        "可能使沿海水位上涨两米以上，住在海边的居民应尽早撤离。"
    ),
}

#: Two short notices (under MIN_CHARS folded characters): alike, but too short to tell a
#: story by; neither indexed nor matched.
SHORT = {"title": "快讯：“海燕七号”登陆东港", "lead": None,
         "body_markdown": "强台风“海燕七号”周二凌晨在东港市南部沿海登陆。详情稍后报道。"}
SHORT_TWIN = {"title": "快訊：「海燕七號」登陸東港", "lead": None,
              "body_markdown": "強颱風「海燕七號」週二凌晨在東港市南部沿海登陸。詳情稍後報導。"}
